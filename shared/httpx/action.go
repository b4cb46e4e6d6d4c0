package httpx

import (
	"maps"
	"net/http"
)

// withAction names, in details.action, the action a 403 refuses: the method and the
// route's pattern ("POST /v1/notes/{id}/approve"), never the ids of the path. Every
// refusal of a role then says what was refused, whichever layer refused it.
func withAction(e *Error, r *http.Request) *Error {
	if e.Status != http.StatusForbidden || r.Pattern == "" {
		return e
	}
	action := r.Method + " " + r.Pattern
	details := map[string]any{}
	switch d := e.Details.(type) {
	case nil:
	case map[string]any:
		maps.Copy(details, d)
	case map[string]string:
		for k, v := range d {
			details[k] = v
		}
	default:
		return e
	}
	if _, ok := details["action"]; ok {
		return e
	}
	details["action"] = action
	c := *e
	c.Details = details
	return &c
}
