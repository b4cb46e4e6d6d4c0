package stack

import "github.com/medi-os/medi/shared/routes"

// Trigger says how a function is invoked.
type Trigger string

// Triggers, as docs/architecture.md lists them.
const (
	TriggerHTTP      Trigger = "http"      // public, behind the load balancer
	TriggerPubSub    Trigger = "pubsub"    // Pub/Sub push (Eventarc in production)
	TriggerStorage   Trigger = "storage"   // GCS object finalized (Eventarc)
	TriggerTask      Trigger = "task"      // Cloud Tasks HTTP target
	TriggerScheduler Trigger = "scheduler" // Cloud Scheduler with OIDC
)

// Function describes one deployable of the suite as the local stack runs it.
type Function struct {
	Name     string
	Trigger  Trigger
	Prefixes []string // HTTP path prefixes it owns (from the route table, shared/routes)
	Topic    string   // Pub/Sub topic for TriggerPubSub
	Queue    string   // Cloud Tasks queue for TriggerTask
	// Ordered: its push subscription delivers in ordering-key order, as the Terraform
	// subscription does (terraform/pubsub.tf sets message_ordering per subscription; none
	// of today's consumers needs it).
	Ordered bool
}

// Functions is the suite as it exists today. A function appears here once it is
// registered in functions.go; the gateway routes, push subscriptions and task targets
// follow from this table. The path prefixes of the public functions come from the route
// table (shared/routes/routes.json), which the load balancer's Terraform reads too.
var Functions = []Function{
	{Name: "auth", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("auth")},
	{Name: "patients", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("patients")},
	{Name: "queue", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("queue")},
	{Name: "queue-projector", Trigger: TriggerPubSub, Topic: "encounter-events"},
	{Name: "triage", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("triage")},
	{Name: "scribe", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("scribe")},
	{Name: "scribe-ingest", Trigger: TriggerStorage},
	{Name: "scribe-worker", Trigger: TriggerTask, Queue: "scribe"},
	{Name: "retention", Trigger: TriggerScheduler},
	{Name: "summarize", Trigger: TriggerHTTP, Prefixes: routes.Get().Prefixes("summarize")},
	{Name: "summarize-worker", Trigger: TriggerTask, Queue: "summaries"},
	{Name: "summarize-note-events", Trigger: TriggerPubSub, Topic: "note-events"},
	{Name: "summarize-encounter-events", Trigger: TriggerPubSub, Topic: "encounter-events"},
	{Name: "mailer", Trigger: TriggerTask, Queue: "mail"},
	{Name: "audit-seal", Trigger: TriggerScheduler},
	{Name: "encounter-outbox", Trigger: TriggerScheduler},
	{Name: "access-alerts", Trigger: TriggerPubSub, Topic: "access-events"},
	{Name: "scribe-sweeper", Trigger: TriggerScheduler},
}

// DefaultService receives paths no prefix matches (the URL map's default service).
var DefaultService = routes.Get().Default

// Topics the stack creates, each with a dead-letter topic "<name>-dlq".
var Topics = []string{"encounter-events", "note-events", "access-events"}

// UploadsNotificationTopic receives the uploads bucket's object notifications, which the
// local Eventarc bridge turns into CloudEvents for the ingest function.
const UploadsNotificationTopic = "uploads-notifications"

// Route returns the function that owns path, following the URL map's rules: a prefix
// matches the path itself and anything below it ("/v1/staff" matches "/v1/staff/abc",
// not "/v1/staffing").
func Route(path string) string { return routes.Get().Owner(path) }
