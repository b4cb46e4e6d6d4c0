// Package docs holds tests that keep the documentation honest without running anything:
// every relative link in README.md and docs/ resolves (anchors included), every error
// code, detail reason and scribe failure code the code can return is explained in
// docs/troubleshooting.md, every alert policy in terraform/ has its runbook, and every document
// a comment, script or doc names (and its numbered section) exists in the repository. They
// read files only, so they also run under `go test -short`.
package docs
