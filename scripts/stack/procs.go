package stack

import "strings"

// FunctionPIDs returns the process id of every running function process, by function
// name (the local stack runs each function as its own process, as Cloud Run runs one
// instance per deployment). Load tools read their memory from /proc/<pid>/status.
func (s *Stack) FunctionPIDs() map[string]int {
	pids := map[string]int{}
	for _, p := range s.procs {
		name, ok := strings.CutPrefix(p.Name, "fn-")
		if !ok || p.Exited() {
			continue
		}
		pids[name] = p.PID()
	}
	return pids
}
