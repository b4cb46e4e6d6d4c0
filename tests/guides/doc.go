// Package guides runs the user guides: it takes the runnable command blocks (```sh) of
// every guide in docs/user-guides, runs them as written, guide after guide, in one bash
// per guide against a fresh local stack of its own (seeded like scripts/dev), and checks
// each answer the commands print against the answer the guide shows after them (```http).
// The rules for both kinds of block, and how a shown answer is compared with the real one,
// are in docs/user-guides/README.md.
package guides
