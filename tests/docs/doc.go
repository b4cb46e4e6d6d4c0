// Package docs holds tests that keep the documentation honest without running anything:
// every relative link in README.md and docs/ resolves (anchors included), every error
// code, detail reason and scribe failure code the code can return is explained in
// docs/troubleshooting.md, and every alert policy in terraform/ has its runbook. They
// read files only, so they also run under `go test -short`.
package docs
