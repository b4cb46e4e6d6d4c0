package audit

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/auth"
)

// ReplaySuffix ends the action of the record that audits an idempotent replay: the
// replay of a "patient.create" answer is audited as "patient.create.replay".
const ReplaySuffix = ".replay"

// ReplayAuditor returns the hook with which the idempotency middleware audits a replayed
// answer (idempotency.Options.AuditReplay). A replay sends again the answer of earlier
// requests without running the handler, so it discloses what they disclosed: for every
// success record with a patient that those requests (requestIDs, the server's ids) wrote
// in the caller's clinic, it writes one record of the same action plus ReplaySuffix on
// the same resource and patient, by the caller of the replay, with the replay's request
// id. Records of the replay are written before the answer is sent; an error means the
// replay must not be sent.
func ReplayAuditor(fs *firestore.Client) func(ctx context.Context, requestIDs []string) error {
	return func(ctx context.Context, requestIDs []string) error {
		p, ok := auth.FromContext(ctx)
		if !ok || p.ClinicID == "" {
			return errors.New("audit: a replay without an authenticated caller of a clinic")
		}
		if len(requestIDs) == 0 {
			return nil // a record written before request ids were kept: nothing to look up
		}
		docs, err := fs.Collection("clinics").Doc(p.ClinicID).Collection(Collection).
			Where("requestId", "in", requestIDs).Documents(ctx).GetAll()
		if err != nil {
			return fmt.Errorf("audit: records of the replayed requests: %w", err)
		}
		type disclosure struct{ action, resourceType, resourceID, patientID string }
		seen := map[disclosure]bool{}
		for _, d := range docs {
			var r Record
			if err := d.DataTo(&r); err != nil {
				return fmt.Errorf("audit: record %s: %w", d.Ref.ID, err)
			}
			k := disclosure{r.Action + ReplaySuffix, r.ResourceType, r.ResourceID, r.PatientID}
			if r.PatientID == "" || r.Outcome != OutcomeSuccess || seen[k] {
				continue
			}
			seen[k] = true
			if err := New(ctx, p.ClinicID, k.action, k.resourceType, k.resourceID).ForPatient(k.patientID).Write(ctx, fs); err != nil {
				return err
			}
		}
		return nil
	}
}
