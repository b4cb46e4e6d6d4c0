package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procMemory is one reading of /proc/<pid>/status, in KiB.
type procMemory struct {
	RSS, HWM int64 // VmRSS (resident now), VmHWM (peak resident since start)
}

// parseStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status.
func parseStatus(b []byte) (procMemory, error) {
	var m procMemory
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, err
		}
		if key == "VmRSS" {
			m.RSS = n
		} else {
			m.HWM = n
		}
		seen++
	}
	if seen != 2 {
		return m, fmt.Errorf("VmRSS or VmHWM missing")
	}
	return m, nil
}

func readMemory(pid int) (procMemory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, err
	}
	return parseStatus(b)
}

// Memory is one function instance's resident memory over the run, in KiB.
type Memory struct {
	Function string
	Idle     int64 // before any request of the run (after start-up and sign-in)
	Peak     int64 // highest VmRSS sampled every second under load
	HWM      int64 // VmHWM at the end of the load (the kernel's own peak)
	After    int64 // VmRSS a few seconds after the load
}

// memorySampler samples the function processes' VmRSS every second.
type memorySampler struct {
	pids map[string]int
	mu   sync.Mutex
	mem  map[string]*Memory
	stop chan struct{}
	done chan struct{}
}

func newMemorySampler(pids map[string]int) *memorySampler {
	s := &memorySampler{pids: pids, mem: map[string]*Memory{}}
	for fn, pid := range pids {
		m := &Memory{Function: fn}
		if pm, err := readMemory(pid); err == nil {
			m.Idle = pm.RSS
		}
		s.mem[fn] = m
	}
	return s
}

// start samples every interval until stopLoad is called.
func (s *memorySampler) start(interval time.Duration) {
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

func (s *memorySampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for fn, pid := range s.pids {
		if pm, err := readMemory(pid); err == nil {
			m := s.mem[fn]
			m.Peak = max(m.Peak, pm.RSS)
			m.HWM = pm.HWM
		}
	}
}

// stopLoad ends the sampling under load.
func (s *memorySampler) stopLoad() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	s.sample()
}

// after records the resident memory once the load is over, and returns every reading.
func (s *memorySampler) after() []Memory {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Memory
	for fn, pid := range s.pids {
		m := s.mem[fn]
		if pm, err := readMemory(pid); err == nil {
			m.After = pm.RSS
		}
		out = append(out, *m)
	}
	return out
}
