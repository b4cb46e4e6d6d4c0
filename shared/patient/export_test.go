package patient

import (
	"context"
	"time"

	"github.com/medi-os/medi/shared/audit"
)

// SetNow replaces the store's clock (tests only).
func (s *Store) SetNow(now func() time.Time) { s.now = now }

// FailReadAudits makes every read audit fail with err (tests only).
func (s *Store) FailReadAudits(err error) {
	s.auditReads = func(context.Context, []audit.Record) error { return err }
}
