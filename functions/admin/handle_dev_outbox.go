package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/mail"
)

// OutboxList is the body of GET /v1/dev/outbox.
type OutboxList struct {
	Messages []mail.OutboxMessage `json:"items"`
}

// outboxHandler lists the dev outbox (registered in the dev tier only; elsewhere the
// path is 404). Query "to" filters by recipient.
func outboxHandler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := mail.NewOutbox(dir)
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(1, err))
			return
		}
		msgs, err := o.List(r.URL.Query().Get("to"), 100)
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(1, err))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, OutboxList{Messages: msgs})
	})
}
