// Package devports names the fixed ports of the local stack that scripts/dev starts, and
// the variables that move them. scripts/dev, scripts/demo and the load tools read the
// same environment, so one switch moves them together:
//
//	MEDI_PORT_BASE=18080 scripts/dev     gateway 18080, Firestore 18081, ... Storage 18086
//	MEDI_PORT_BASE=18080 scripts/demo    the tour finds that stack
//
// A variable of one port (MEDI_PORT, MEDI_AUTH_PORT, ...) wins over the base for that port.
package devports

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BaseVar moves every port at once: port i of All is base+i.
const BaseVar = "MEDI_PORT_BASE"

// Ports are the stack's servers' ports; 0 means "pick a free port".
type Ports struct {
	Gateway     int
	Firestore   int
	PubSub      int
	Auth        int
	AuthHub     int
	AuthLogging int
	Storage     int
}

// Port is one server's port: what it is for, its variable and its default.
type Port struct {
	Use     string
	Var     string
	Default int
	field   func(*Ports) *int
}

// Field returns the port's field in p.
func (pt Port) Field(p *Ports) *int { return pt.field(p) }

// All lists the ports in their order under MEDI_PORT_BASE (the gateway is the base itself).
var All = []Port{
	{"gateway", "MEDI_PORT", 8080, func(p *Ports) *int { return &p.Gateway }},
	{"Firestore emulator", "MEDI_FIRESTORE_PORT", 8086, func(p *Ports) *int { return &p.Firestore }},
	{"Pub/Sub emulator", "MEDI_PUBSUB_PORT", 8085, func(p *Ports) *int { return &p.PubSub }},
	{"Auth emulator", "MEDI_AUTH_PORT", 9099, func(p *Ports) *int { return &p.Auth }},
	{"emulator hub", "MEDI_AUTH_HUB_PORT", 4410, func(p *Ports) *int { return &p.AuthHub }},
	{"emulator logging", "MEDI_AUTH_LOGGING_PORT", 4510, func(p *Ports) *int { return &p.AuthLogging }},
	{"fake-gcs-server", "MEDI_STORAGE_PORT", 4443, func(p *Ports) *int { return &p.Storage }},
}

// Defaults are the ports without any variable set.
func Defaults() Ports {
	var p Ports
	for _, pt := range All {
		*pt.Field(&p) = pt.Default
	}
	return p
}

// FromEnv returns the dev ports under getenv (os.Getenv): MEDI_PORT_BASE when set, each
// port's own variable over it. A value that is not a port is an error naming its variable.
func FromEnv(getenv func(string) string) (Ports, error) {
	p := Defaults()
	var errs []error
	base, err := parse(getenv, BaseVar, len(All)-1)
	if err != nil {
		errs = append(errs, err)
	}
	for i, pt := range All {
		if base > 0 {
			*pt.Field(&p) = base + i
		}
		v, err := parse(getenv, pt.Var, 0)
		if err != nil {
			errs = append(errs, err)
		}
		if v > 0 {
			*pt.Field(&p) = v
		}
	}
	return p, errors.Join(errs...)
}

// parse reads a port variable (0 when unset); room is how many ports must fit above it.
func parse(getenv func(string) string, name string, room int) (int, error) {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1024 || n > 65535-room {
		return 0, fmt.Errorf("%s=%q: want a port number from 1024 to %d", name, s, 65535-room)
	}
	return n, nil
}

// Set lists the port variables that are set in getenv, as NAME=value in the order of
// All (MEDI_PORT_BASE first): what a second terminal needs to reach the same stack.
func Set(getenv func(string) string) []string {
	var out []string
	for _, name := range append([]string{BaseVar}, vars()...) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

func vars() []string {
	out := make([]string, len(All))
	for i, pt := range All {
		out[i] = pt.Var
	}
	return out
}

// BaseURL is the gateway's URL on p.
func (p Ports) BaseURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.Gateway) }

// AuthHost is the Auth emulator's host:port on p.
func (p Ports) AuthHost() string { return "127.0.0.1:" + strconv.Itoa(p.Auth) }

// VarOf names the variable of the port used for use ("" when use is unknown).
func VarOf(use string) string {
	for _, pt := range All {
		if pt.Use == use {
			return pt.Var
		}
	}
	return ""
}

// Client returns where a client of the dev stack (scripts/demo, the load tools) finds the
// gateway and the Auth emulator: $MEDI_BASE_URL and $FIREBASE_AUTH_EMULATOR_HOST when set
// (scripts/test sets them for its stack), else the ports FromEnv gives.
func Client(getenv func(string) string) (baseURL, authHost string, err error) {
	p, err := FromEnv(getenv)
	baseURL, authHost = p.BaseURL(), p.AuthHost()
	if v := getenv("MEDI_BASE_URL"); v != "" {
		baseURL = v
	}
	if v := getenv("FIREBASE_AUTH_EMULATOR_HOST"); v != "" {
		authHost = v
	}
	return baseURL, authHost, err
}
