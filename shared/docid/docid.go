// Package docid is the one rule for the ids the API accepts in paths and bodies: patient,
// encounter, note, scribe session, grant, staff (uid) and clinic ids. The suite makes its
// ids from letters, digits, '-' and '_' (Firestore auto ids, random hex with a prefix,
// Firebase Auth uids), at most 128 characters, so anything else cannot name a resource of
// ours. Checking that before a store is reached keeps what Firestore would refuse (a
// reserved __name__, a 2,000-character or empty id, a '/') from becoming a backend error:
// the httpx router answers such a path id 404, and request validators answer a body id
// 400.
package docid

import "strings"

// MaxLen is the longest id accepted.
const MaxLen = 128

// Valid reports whether id can name a resource of the suite: 1 to MaxLen characters of
// A-Z, a-z, 0-9, '-' and '_', and not of Firestore's reserved form __...__.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	if len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
