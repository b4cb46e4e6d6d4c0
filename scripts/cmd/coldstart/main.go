// Command coldstart measures the cold start of Medi OS functions: the time from exec of
// the function server to its first 200 on GET /v1/health, against two baselines built in
// the same run: a bare functions-framework-go hello world (./baseline) and the same hello
// world linked with the Google client libraries the functions use (./clients, the floor a
// function that talks to Firestore cannot beat). It prints the median, p90 and the ratio
// to each baseline. Timings depend on the machine: they go into docs, never into test
// assertions.
//
//	go run ./scripts/cmd/coldstart [-n 15] [-functions auth,patients]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 15, "starts per binary")
	fns := flag.String("functions", "auth,patients,queue,triage,scribe,summarize", "functions to measure")
	flag.Parse()
	if err := run(*n, strings.Split(*fns, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(n int, fns []string) error {
	dir, err := os.MkdirTemp("", "medi-coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	suite := filepath.Join(dir, "fnserve")
	base := filepath.Join(dir, "baseline")
	clients := filepath.Join(dir, "clients")
	for bin, pkg := range map[string]string{suite: "./scripts/cmd/fnserve", base: "./scripts/cmd/coldstart/baseline",
		clients: "./scripts/cmd/coldstart/clients"} {
		if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	for _, b := range []string{suite, base, clients} {
		fi, _ := os.Stat(b)
		fmt.Printf("binary %-9s %6.1f MiB\n", filepath.Base(b), float64(fi.Size())/(1<<20))
	}
	baseMed, baseP90, err := measure(n, base, "hello", "/")
	if err != nil {
		return err
	}
	fmt.Printf("%-10s median %7.1f ms  p90 %7.1f ms  (n=%d)\n", "baseline", ms(baseMed), ms(baseP90), n)
	cliMed, cliP90, err := measure(n, clients, "hello", "/")
	if err != nil {
		return err
	}
	fmt.Printf("%-10s median %7.1f ms  p90 %7.1f ms  ratio %.2fx\n", "clients", ms(cliMed), ms(cliP90), float64(cliMed)/float64(baseMed))
	for _, fn := range fns {
		med, p90, err := measure(n, suite, fn, "/v1/health")
		if err != nil {
			return err
		}
		fmt.Printf("%-10s median %7.1f ms  p90 %7.1f ms  ratio %.2fx  to clients %.2fx\n", fn, ms(med), ms(p90),
			float64(med)/float64(baseMed), float64(med)/float64(cliMed))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func measure(n int, bin, target, path string) (median, p90 time.Duration, err error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		d, err := once(bin, target, path)
		if err != nil {
			return 0, 0, err
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[(len(ds)*9)/10], nil
}

func once(bin, target, path string) (time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin)
	// The configuration the local stack gives every function that a start checks.
	cmd.Env = append(os.Environ(), "FUNCTION_TARGET="+target, "PORT="+strconv.Itoa(port),
		"MEDI_LISTEN_HOST=127.0.0.1", "MEDI_ENV=dev", "GOOGLE_CLOUD_PROJECT=demo-coldstart",
		"MEDI_UPLOADS_BUCKET=demo-coldstart-uploads")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case err := <-exited:
			exited <- err // for the deferred wait
			return 0, fmt.Errorf("%s exited before answering (%v): %s", target, err, bytes.TrimSpace(stderr.Bytes()))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			return 0, fmt.Errorf("%s answered %d", target, resp.StatusCode)
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s did not answer within 20s", target)
}
