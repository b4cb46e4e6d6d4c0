package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Report is what the Markdown report shows besides the outcome.
type Report struct {
	Command   string
	Stack     string // "own stack on free ports" or the base URL used
	ColdStart string // output of scripts/cmd/coldstart, if run
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// ratio formats a ÷ b, or "n/a" when b is zero.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 1, 64) + "×"
}

func statusCodes(m *vegeta.Metrics) string {
	keys := make([]string, 0, len(m.StatusCodes))
	for k := range m.StatusCodes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m.StatusCodes[k])
	}
	return strings.Join(parts, " ")
}

func mib(kib int64) string { return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) }

// machine describes the host: CPU model, cores, memory.
func machine() string {
	model, memTotal := "unknown CPU", ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) == 2 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						memTotal = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
					}
				}
			}
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s, %s", model, runtime.NumCPU(), memTotal, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// writeReport writes the Markdown section for docs/performance.md.
func writeReport(w io.Writer, o *Outcome, r Report) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Mixed load (tests/load)\n\n")
	p("Command: `%s` (%s). Run on %s UTC for %s, in a fresh clinic (`%s`) with its own staff accounts.\n\n",
		r.Command, r.Stack, o.From.UTC().Format("2006-01-02 15:04"), o.Options.Duration, o.ClinicID)
	p("Machine: %s. Load average (1/5/15 min) before the run %s, after %s; the machine is shared, so the\n", machine(), o.LoadBefore, o.LoadAfter)
	p("emulators, every function process, the tool and the floor client compete for the same cores.\n\n")

	p("### Latency and throughput per endpoint (through the gateway)\n\n")
	p("Open model (vegeta, constant rate per endpoint, all endpoints at once); latency is the client's, request to last byte.\n\n")
	p("| endpoint | operation | rate | requests | throughput | success | p50 | p95 | p99 | max | status codes |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, ep := range endpointOrder {
		m := o.API[ep]
		if m == nil {
			continue
		}
		p("| %s | `%s` | %g/s | %d | %.1f/s | %.1f %% | %s | %s | %s | %s | %s |\n", ep, endpointPaths[ep], o.Options.Rates[ep],
			m.Requests, m.Throughput, 100*m.Success, ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99), ms(m.Latencies.Max), statusCodes(m))
	}
	var starved []string
	for _, ep := range endpointOrder {
		if n := o.Starved[ep]; n > 0 {
			starved = append(starved, fmt.Sprintf("%s %d", ep, n))
		}
	}
	if len(starved) > 0 {
		p("\nTicks that found no work ready (the feeding endpoint had not answered yet; not sent, not counted): %s.\n", strings.Join(starved, ", "))
	}
	var errs []string
	for _, ep := range endpointOrder {
		if m := o.API[ep]; m != nil {
			for _, e := range m.Errors {
				errs = append(errs, ep+": "+e)
			}
		}
	}
	if len(errs) > 0 {
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Sprintf("(%d more)", len(errs)-10))
		}
		p("\nErrors seen: %s.\n", strings.Join(errs, "; "))
	}

	if len(o.Floor) > 0 {
		p("\n### API overhead against the Firestore floor\n\n")
		p("In the same run, at the same rates, a floor client performs each endpoint's Firestore transaction (same documents,\n")
		p("model types and read-then-write shape, audit records included) directly with the Go client against the emulator:\n")
		p("no gateway, HTTP, token verification, JSON or Pub/Sub. The ratio is the API's cost over the storage it cannot avoid.\n\n")
		p("| endpoint | floor p50 | floor p99 | floor success | API p50 ÷ floor p50 | API p99 ÷ floor p99 |\n")
		p("|---|--:|--:|--:|--:|--:|\n")
		for _, ep := range endpointOrder {
			f, a := o.Floor[ep], o.API[ep]
			if f == nil || a == nil {
				continue
			}
			p("| %s | %s | %s | %.1f %% | %s | %s |\n", ep, ms(f.Latencies.P50), ms(f.Latencies.P99), 100*f.Success,
				ratio(a.Latencies.P50, f.Latencies.P50), ratio(a.Latencies.P99, f.Latencies.P99))
		}
		var ferrs []string
		for _, ep := range endpointOrder {
			if f := o.Floor[ep]; f != nil {
				for _, e := range f.Errors {
					ferrs = append(ferrs, ep+": "+e)
				}
			}
		}
		if len(ferrs) > 0 {
			if len(ferrs) > 6 {
				ferrs = append(ferrs[:6], fmt.Sprintf("(%d more)", len(ferrs)-6))
			}
			p("\nFloor errors: %s.\n", strings.Join(ferrs, "; "))
		}
	}

	p("\n### Reconciliation with Firestore\n\n")
	p("After the run, the tool counts what Firestore holds for the run's clinic (written between the start and the end of\n")
	p("the load; fixtures excluded) and compares it with the 2xx answers it saw.\n\n")
	p("| what | 2xx answers | Firestore | agrees |\n|---|--:|--:|---|\n")
	bad := 0
	for _, c := range o.Reconciliation.Checks {
		mark := "yes"
		if !c.OK() {
			mark, bad = "**no**", bad+1
		}
		p("| %s | %d | %d | %s |\n", c.What, c.API, c.Firestore, mark)
	}
	if bad == 0 && len(o.Reconciliation.Details) == 0 {
		p("\nAll %d counts agree: no lost write, no write the client was not told about, no duplicate.\n", len(o.Reconciliation.Checks))
	} else {
		p("\n%d counts differ.\n", bad)
		for _, d := range o.Reconciliation.Details {
			p("- %s\n", d)
		}
	}

	if len(o.Memory) > 0 {
		p("\n### Instance memory (RSS, MiB)\n\n")
		p("`/proc/<pid>/status` of each function process: idle before the run's first request, highest VmRSS sampled every\n")
		p("second under load, VmHWM (the kernel's peak) at the end, and VmRSS 3 s after the load.\n\n")
		p("| function | idle | peak under load | VmHWM | after |\n|---|--:|--:|--:|--:|\n")
		mem := append([]Memory(nil), o.Memory...)
		sort.Slice(mem, func(i, j int) bool { return mem[i].Function < mem[j].Function })
		for _, m := range mem {
			p("| %s | %s | %s | %s | %s |\n", m.Function, mib(m.Idle), mib(m.Peak), mib(m.HWM), mib(m.After))
		}
	}
	if r.ColdStart != "" {
		p("\n### Cold start (scripts/cmd/coldstart)\n\n")
		p("Exec to first 200 on `/v1/health`, against a bare functions-framework-go binary built in the same run:\n\n```\n%s```\n", r.ColdStart)
	}
}
