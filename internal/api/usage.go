package api

import (
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// usageJSON is an app's free dyno hours this calendar month (UTC).
type usageJSON struct {
	App              idName `json:"app"`
	Month            string `json:"month"`
	QuotaSeconds     int64  `json:"quota_seconds"`
	UsedSeconds      int64  `json:"used_seconds"`
	RemainingSeconds int64  `json:"remaining_seconds"`
}

// appUsage answers GET /apps/{app}/usage.
func (h *Handler) appUsage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	app, err := h.cfg.Apps.FindApp(ctx, r.PathValue("app"))
	if err != nil {
		return err
	}
	now := time.Now
	if h.cfg.Now != nil {
		now = h.cfg.Now
	}
	hours := h.cfg.FreeDynoHours
	if hours <= 0 {
		hours = 750
	}
	out := usageJSON{App: idName{ID: app.ID, Name: app.Name}, Month: bulut.UsageMonth(now()), QuotaSeconds: int64(hours) * 3600}
	if h.cfg.DynoUsage != nil {
		u, err := h.cfg.DynoUsage.FindDynoUsage(bulut.NewSystemContext(ctx), app.ID, out.Month)
		if err != nil {
			return err
		}
		out.UsedSeconds = u.Seconds
	}
	out.RemainingSeconds = max(out.QuotaSeconds-out.UsedSeconds, 0)
	writeJSON(w, r, http.StatusOK, out)
	return nil
}
