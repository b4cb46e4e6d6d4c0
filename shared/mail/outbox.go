package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Outbox is the development provider: each message becomes a JSON file in a folder,
// which GET /v1/dev/outbox lists (dev only). Addresses ending in "@bounce.invalid" are
// refused as a permanent failure, so that bounce handling can be exercised locally.
type Outbox struct{ dir string }

// BounceDomain addresses fail permanently in the dev outbox.
const BounceDomain = "@bounce.invalid"

// DefaultOutboxDir is the outbox folder when MEDI_DEV_OUTBOX_DIR is not set: per project,
// so that the auth function and the mailer of one local stack share it.
func DefaultOutboxDir(projectID string) string {
	return filepath.Join(os.TempDir(), "medi-dev-outbox", projectID)
}

// NewOutbox returns an outbox in dir (created when missing).
func NewOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	return &Outbox{dir: dir}, nil
}

// OutboxMessage is one message in the dev outbox.
type OutboxMessage struct {
	Message
	ID     string    `json:"id"`
	SentAt time.Time `json:"sentAt"`
}

// Send implements Provider.
func (o *Outbox) Send(_ context.Context, m Message) error {
	if strings.HasSuffix(strings.ToLower(m.To), BounceDomain) {
		return &PermanentError{Code: 550, Err: errors.New("mailbox unavailable (dev outbox bounce domain)")}
	}
	now := time.Now().UTC()
	id := fmt.Sprintf("%019d-%s", now.UnixNano(), AddressKey(m.To)[:8])
	b, err := json.Marshal(OutboxMessage{Message: m, ID: id, SentAt: now})
	if err != nil {
		return err
	}
	tmp := filepath.Join(o.dir, "."+id+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("mail: outbox write: %w", err)
	}
	return os.Rename(tmp, filepath.Join(o.dir, id+".json"))
}

// List returns the messages to address (all when empty), newest first, at most limit.
func (o *Outbox) List(to string, limit int) ([]OutboxMessage, error) {
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("mail: outbox read: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	slices.Reverse(names)
	out := []OutboxMessage{}
	for _, n := range names {
		if len(out) >= limit {
			break
		}
		b, err := os.ReadFile(filepath.Join(o.dir, n))
		if err != nil {
			continue
		}
		var m OutboxMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if to == "" || strings.EqualFold(m.To, to) {
			out = append(out, m)
		}
	}
	return out, nil
}
