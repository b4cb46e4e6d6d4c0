package patient

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"github.com/medi-os/medi/shared/docid"
)

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 50
)

// cursorVersion is bumped when the cursor's content changes; older cursors are refused.
const cursorVersion = 1

// checksumSize is the length of the checksum appended to a cursor.
const checksumSize = 12

// cursor is the position after the last item of a page: the sort key of that item and
// its document id (the tie-breaker), tied to the query it continues.
//
// On the wire it is base64url(JSON || checksum), where the checksum is a truncated
// SHA-256 of the JSON. The checksum detects damaged and hand-edited cursors; it is
// not a secret, and need not be: a cursor only positions a query that is already
// restricted to the caller's clinic and criteria. It carries a sort key (for patients
// the folded name of the last match), so it belongs in request and response bodies
// only, like the data it pages through.
type cursor struct {
	Version int    `json:"v"`
	Query   string `json:"q"` // fingerprint of the query it continues
	Key     string `json:"k"` // sort key of the last item returned
	ID      string `json:"id"`
}

// encodeCursor returns the opaque token for position (key, id) in the query whose
// fingerprint is query.
func encodeCursor(query, key, id string) string {
	b, _ := json.Marshal(cursor{Version: cursorVersion, Query: query, Key: key, ID: id})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(append(b, sum[:checksumSize]...))
}

// decodeCursor validates token and returns its position. It fails (with a field error
// on "pageToken") for anything this package did not issue for the same query.
func decodeCursor(token, query string) (cursor, error) {
	bad := errBadCursor()
	if len(token) > 2048 {
		return cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) <= checksumSize {
		return cursor{}, bad
	}
	body, got := raw[:len(raw)-checksumSize], raw[len(raw)-checksumSize:]
	want := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got, want[:checksumSize]) != 1 {
		return cursor{}, bad
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || c.Version != cursorVersion || c.Query != query || !docid.Valid(c.ID) {
		return cursor{}, bad
	}
	return c, nil
}

func errBadCursor() error {
	return invalidField("pageToken", "is invalid or belongs to another query; start again without it")
}

// fingerprint identifies a query by its parts (kind and criteria), so that a cursor
// cannot continue a different query. Parts are length-prefixed against ambiguity.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
