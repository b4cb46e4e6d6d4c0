package stack

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// processStart is when this process began; commandStart prefers $MEDI_STARTED.
var processStart = time.Now()

// commandStart is when the whole command began: $MEDI_STARTED (epoch seconds, set by
// scripts/lib/phase.bash in scripts/dev and scripts/test) when set, else this process's
// start. Every progress line shows the time since then, like the shell phases do.
func commandStart() time.Time {
	if v, err := strconv.ParseInt(os.Getenv("MEDI_STARTED"), 10, 64); err == nil && v > 0 {
		return time.Unix(v, 0)
	}
	return processStart
}

// Clock is the time since the command began as m:ss.
func Clock() string {
	s := int(time.Since(commandStart()).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Phasef prints a phase line, "== [m:ss] ...", to w.
func Phasef(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "== [%s] %s\n", Clock(), fmt.Sprintf(format, args...))
}

// progressEvery is how often a start that is still running says what it waits for.
const progressEvery = 15 * time.Second

// runParallel runs the named tasks at once, prints each one's duration as it ends and,
// every progressEvery, what is still running; it returns their errors joined in order.
func runParallel(out io.Writer, names []string, tasks []func() error) []error {
	var mu sync.Mutex
	pending := map[string]time.Time{}
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, task := range tasks {
		pending[names[i]] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := task()
			mu.Lock()
			defer mu.Unlock()
			errs[i] = err
			status := "ready"
			if err != nil {
				status = "failed"
			}
			fmt.Fprintf(out, "   [%s] %s %s in %s\n", Clock(), names[i], status, time.Since(pending[names[i]]).Round(100*time.Millisecond))
			delete(pending, names[i])
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return errs
		case <-tick.C:
			mu.Lock()
			waiting := make([]string, 0, len(pending))
			for name := range pending {
				waiting = append(waiting, name)
			}
			mu.Unlock()
			sort.Strings(waiting)
			fmt.Fprintf(out, "   [%s] still starting: %s\n", Clock(), strings.Join(waiting, ", "))
		}
	}
}
