# The queue board changes with time alone (waited minutes, the over-target flag that
# moves a patient up), not only with encounter events. Once a minute Cloud Scheduler
# publishes a rebuild request on encounter-events; queue-projector rebuilds every clinic's
# board (shared/queue: TypeRebuildRequested with an empty clinic id). The envelope is
# static: the projector keeps no dedupe record for it, and event age is judged by the
# Pub/Sub publish time. Other consumers ignore the type.
resource "google_cloud_scheduler_job" "queue_board_tick" {
  project     = var.project_id
  region      = var.region
  name        = "queue-board-tick"
  description = "Asks queue-projector to rebuild the queue boards (time-driven wait figures)."
  schedule    = "* * * * *"
  time_zone   = "Etc/UTC"

  pubsub_target {
    topic_name = module.topic_encounter_events.id
    data = base64encode(jsonencode({
      eventId       = "queue-board-tick"
      type          = "queue.rebuild_requested"
      schemaVersion = 1
      clinicId      = ""
      occurredAt    = "2026-01-01T00:00:00Z"
      requestId     = ""
      data          = {}
    }))
    attributes = {
      eventId       = "queue-board-tick"
      type          = "queue.rebuild_requested"
      schemaVersion = "1"
    }
  }

  depends_on = [google_project_service.this]
}
