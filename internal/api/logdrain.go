package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// logDrainJSON is Heroku's LogDrain shape. bulut has no add-ons that make
// drains: addon is always null.
type logDrainJSON struct {
	Addon     *idName   `json:"addon"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	UpdatedAt time.Time `json:"updated_at"`
	URL       string    `json:"url"`
}

func newLogDrainJSON(d *bulut.LogDrain) logDrainJSON {
	return logDrainJSON{CreatedAt: jsonTime(d.CreatedAt), ID: d.ID, Token: d.Token, UpdatedAt: jsonTime(d.UpdatedAt), URL: d.URL}
}

func (h *Handler) listLogDrains(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.cfg.LogDrains.FindLogDrains(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	out := make([]logDrainJSON, len(ds))
	for i, d := range ds {
		out[i] = newLogDrainJSON(d)
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (h *Handler) createLogDrain(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		URL *string `json:"url"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.URL == nil {
		return bulut.Errorf(bulut.EINVALID, "A log drain needs a URL (\"url\"): syslog://HOST:PORT, syslog+tls://HOST:PORT or https://HOST/PATH.")
	}
	d, err := h.cfg.LogDrains.CreateLogDrain(r.Context(), r.PathValue("app"), *body.URL)
	if err != nil {
		return err
	}
	h.drainsChanged(d.AppID)
	writeJSON(w, r, http.StatusCreated, newLogDrainJSON(d))
	return nil
}

// logDrainInfo shows one drain, by ID, URL or token.
func (h *Handler) logDrainInfo(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.cfg.LogDrains.FindLogDrains(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	key := strings.TrimSpace(r.PathValue("drain"))
	for _, d := range ds {
		if strings.EqualFold(d.ID, key) || d.URL == key || d.Token == key {
			writeJSON(w, r, http.StatusOK, newLogDrainJSON(d))
			return nil
		}
	}
	return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "log-drain", Message: "Couldn't find that log drain."}
}

// deleteLogDrain removes a drain, by ID, URL or token, and answers it.
func (h *Handler) deleteLogDrain(w http.ResponseWriter, r *http.Request) error {
	d, err := h.cfg.LogDrains.DeleteLogDrain(r.Context(), r.PathValue("app"), r.PathValue("drain"))
	if err != nil {
		return err
	}
	h.drainsChanged(d.AppID)
	writeJSON(w, r, http.StatusOK, newLogDrainJSON(d))
	return nil
}

func (h *Handler) drainsChanged(appID string) {
	if h.cfg.DrainsChanged != nil {
		h.cfg.DrainsChanged(appID)
	}
}

// drainPathKey reads /apps/{app}/log-drains/{key} when key holds slashes:
// a drain's URL that the client didn't escape (heroku-go doesn't), which
// the mux would otherwise clean and redirect.
func drainPathKey(path string) (app, key string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/apps/")
	if !ok {
		return "", "", false
	}
	app, rest, ok = strings.Cut(rest, "/")
	if !ok || app == "" {
		return "", "", false
	}
	key, ok = strings.CutPrefix(rest, "log-drains/")
	if !ok || !strings.Contains(key, "/") {
		return "", "", false
	}
	return app, key, true
}
