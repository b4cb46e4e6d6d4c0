// Package medi is the root package the Cloud Run functions buildpack deploys: it only
// registers every function of the suite. Each deployment serves one of them, chosen by
// its entry point (FUNCTION_TARGET). Keep this file to registrations: every deployed
// function runs this init at each cold start.
package medi

import (
	"github.com/medi-os/medi/functions/accessalerts"
	"github.com/medi-os/medi/functions/auditseal"
	"github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/encounteroutbox"
	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/functions/mailer"
	"github.com/medi-os/medi/functions/patients"
	"github.com/medi-os/medi/functions/queueprojector"
	"github.com/medi-os/medi/functions/retention"
	"github.com/medi-os/medi/functions/scribe"
	"github.com/medi-os/medi/functions/scribeingest"
	"github.com/medi-os/medi/functions/scribesweeper"
	"github.com/medi-os/medi/functions/scribeworker"
	"github.com/medi-os/medi/functions/summarize"
	"github.com/medi-os/medi/functions/summarizeevents"
	"github.com/medi-os/medi/functions/summarizeworker"
	"github.com/medi-os/medi/functions/triage"
	"github.com/medi-os/medi/shared/app"
)

func init() {
	app.RegisterHTTP(auth.Function)
	app.RegisterHTTP(patients.Function)
	app.RegisterHTTP(encounters.Function)
	app.RegisterCloudEvent(queueprojector.Function)
	app.RegisterHTTP(triage.Function)
	app.RegisterHTTP(scribe.Function)
	app.RegisterCloudEvent(scribeingest.Function)
	app.RegisterHTTP(scribeworker.Function)
	app.RegisterHTTP(retention.Function)
	app.RegisterHTTP(summarize.Function)
	app.RegisterHTTP(summarizeworker.Function)
	app.RegisterCloudEvent(summarizeevents.NoteFunction)
	app.RegisterCloudEvent(summarizeevents.EncounterFunction)
	app.RegisterHTTP(mailer.Function)
	app.RegisterHTTP(auditseal.Function)
	app.RegisterCloudEvent(accessalerts.Function)
	app.RegisterHTTP(encounteroutbox.Function)
	app.RegisterHTTP(scribesweeper.Function)
}
