package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/tasks"
)

// DeliveryCollection holds one document per mail task handled, keyed by a hash of the
// task's queue and name: mailDeliveries/{key}. Its expireAt field is meant for a
// Firestore TTL policy (terraform/firestore.tf).
const DeliveryCollection = "mailDeliveries"

// Defaults of DeliverOnce.
const (
	// SendLease is how long a delivery holds a task while it sends. A duplicate
	// delivery in that time is asked to come back later; after it, the task is taken
	// over (the holder is presumed dead, and the mail may go out twice: the one
	// duplicate a queue with at-least-once delivery cannot rule out).
	SendLease = 2 * time.Minute
	// DeliveryRecordTTL is how long a handled task is remembered; Cloud Tasks keeps a
	// task (and retries it) for at most 31 days.
	DeliveryRecordTTL = 32 * 24 * time.Hour
)

// OutcomeDuplicate is the outcome of a delivery of a task that was already handled.
const OutcomeDuplicate = "duplicate"

// ErrInProgress is returned by DeliverOnce while another delivery of the same task is
// sending it; the caller answers 5xx so that the queue retries later (answering 2xx
// would complete the task even if that other delivery then fails).
var ErrInProgress = errors.New("mail: another delivery of this task is in progress")

// Delivery record states.
const (
	deliverySending = "sending"
	deliveryDone    = "done"
)

// deliveryRecord is the stored state of one mail task. It holds no address and no link.
type deliveryRecord struct {
	State      string    `firestore:"state"`
	Outcome    string    `firestore:"outcome,omitempty"`
	Kind       string    `firestore:"kind"`
	LeaseUntil time.Time `firestore:"leaseUntil"`
	UpdatedAt  time.Time `firestore:"updatedAt"`
	ExpireAt   time.Time `firestore:"expireAt"`
}

// DeliveryKey identifies a task delivery for DeliverOnce: the queue and task name of the
// Cloud Tasks headers (every delivery of one task carries the same), else the task's own
// ID; empty when there is neither (no de-duplication).
func DeliveryKey(d tasks.Delivery, t Task) string {
	switch {
	case d.TaskName != "":
		return tasks.TaskID("task", d.Queue, d.TaskName)
	case t.ID != "":
		return tasks.TaskID("id", t.ID)
	}
	return ""
}

// DeliverOnce is Deliver for a task that may be delivered more than once (Cloud Tasks
// delivers at least once, sometimes concurrently): the first delivery claims the task
// (in a transaction on mailDeliveries/{key}) and sends; later deliveries of a task
// that was handled return OutcomeDuplicate without sending, and deliveries while it is
// being sent return ErrInProgress. A transient failure releases the claim so that the
// retry can send. An empty key delivers without de-duplication.
func (d *Deliverer) DeliverOnce(ctx context.Context, key string, t Task) (string, error) {
	if key == "" {
		return d.Deliver(ctx, t)
	}
	if err := t.Validate(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	ref := d.fs.Collection(DeliveryCollection).Doc(key)
	outcome, claimed, err := d.claim(ctx, ref, t.Kind)
	if err != nil || !claimed {
		return outcome, err
	}
	outcome, err = d.Deliver(ctx, t)
	now := d.now().UTC()
	if err != nil {
		// Release the claim (best effort: the lease expires anyway).
		_, _ = ref.Delete(context.WithoutCancel(ctx))
		return "", err
	}
	done := deliveryRecord{State: deliveryDone, Outcome: outcome, Kind: t.Kind, UpdatedAt: now, ExpireAt: now.Add(DeliveryRecordTTL)}
	// A failed write leaves the claim to expire: a redelivery after the lease would send
	// again. Success is reported all the same (answering 5xx would make that certain).
	_, _ = ref.Set(context.WithoutCancel(ctx), done)
	return outcome, nil
}

// claim takes the task for this delivery unless it was handled (OutcomeDuplicate) or
// another delivery holds it (ErrInProgress).
func (d *Deliverer) claim(ctx context.Context, ref *firestore.DocumentRef, kind string) (outcome string, claimed bool, err error) {
	err = d.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		claimed = false
		now := d.now().UTC()
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			var rec deliveryRecord
			if err := snap.DataTo(&rec); err != nil {
				return err
			}
			if rec.State == deliveryDone {
				return nil
			}
			if rec.State == deliverySending && now.Before(rec.LeaseUntil) {
				return ErrInProgress
			}
		}
		claimed = true
		return tx.Set(ref, deliveryRecord{State: deliverySending, Kind: kind, LeaseUntil: now.Add(SendLease),
			UpdatedAt: now, ExpireAt: now.Add(DeliveryRecordTTL)})
	})
	switch {
	case errors.Is(err, ErrInProgress):
		return "", false, ErrInProgress
	case err != nil:
		return "", false, fmt.Errorf("mail: claiming the task: %w", err)
	case !claimed:
		return OutcomeDuplicate, false, nil
	}
	return "", true, nil
}
