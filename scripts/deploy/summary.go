package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Summary is what a saved plan would change, in a canonical form: the same plan always
// gives the same text, so its digest can be approved (prod) and checked before apply.
type Summary struct {
	// Env and Release are the plan's environment and release variables.
	Env     string
	Release string
	// Addresses of the resources the plan creates, updates in place, replaces (destroys
	// and re-creates) and deletes, sorted.
	Create  []string
	Update  []string
	Replace []string
	Delete  []string
	// Forget are resources removed from the state but left in the project (removed blocks).
	Forget []string
}

// Summarize reads the changes of a plan (terraform show -json of a saved plan).
func Summarize(p *tfjson.Plan) (Summary, error) {
	if p == nil {
		return Summary{}, fmt.Errorf("summary: no plan")
	}
	s := Summary{Env: planVariable(p, "environment"), Release: planVariable(p, "release")}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil {
			continue
		}
		a := rc.Change.Actions
		switch {
		case a.NoOp(), a.Read():
		case a.Create():
			s.Create = append(s.Create, rc.Address)
		case a.Update():
			s.Update = append(s.Update, rc.Address)
		case a.Replace():
			s.Replace = append(s.Replace, rc.Address)
		case a.Delete():
			s.Delete = append(s.Delete, rc.Address)
		case a.Forget():
			s.Forget = append(s.Forget, rc.Address)
		default:
			return Summary{}, fmt.Errorf("summary: %s: unknown actions %v", rc.Address, a)
		}
	}
	for _, l := range [][]string{s.Create, s.Update, s.Replace, s.Delete, s.Forget} {
		slices.Sort(l)
	}
	return s, nil
}

func planVariable(p *tfjson.Plan, name string) string {
	if v, ok := p.Variables[name]; ok && v != nil {
		if s, ok := v.Value.(string); ok {
			return s
		}
	}
	return ""
}

// Empty reports whether the plan changes nothing.
func (s Summary) Empty() bool {
	return len(s.Create)+len(s.Update)+len(s.Replace)+len(s.Delete)+len(s.Forget) == 0
}

// Text is the canonical summary: a header with the counts, then one line per changed
// resource ("+" create, "~" update, "-/+" replace, "-" delete, "x" forget).
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "environment %s, release %s\n", s.Env, s.Release)
	fmt.Fprintf(&b, "create %d, update %d, replace %d, delete %d, forget %d\n", len(s.Create), len(s.Update), len(s.Replace), len(s.Delete), len(s.Forget))
	for _, g := range []struct {
		mark  string
		addrs []string
	}{{"+", s.Create}, {"~", s.Update}, {"-/+", s.Replace}, {"-", s.Delete}, {"x", s.Forget}} {
		for _, a := range g.addrs {
			fmt.Fprintf(&b, "%3s %s\n", g.mark, a)
		}
	}
	return b.String()
}

// Digest is the SHA-256 (hex) of Text: what an approver passes to `apply -approve`.
func (s Summary) Digest() string {
	sum := sha256.Sum256([]byte(s.Text()))
	return hex.EncodeToString(sum[:])
}
