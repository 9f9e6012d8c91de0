package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// formationJSON is Heroku's Formation shape (field names as heroku-go v5).
type formationJSON struct {
	App       idName    `json:"app"`
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Quantity  int       `json:"quantity"`
	Size      string    `json:"size"`
	Type      string    `json:"type"`
	UpdatedAt time.Time `json:"updated_at"`
}

func newFormationJSON(app *bulut.App, f *bulut.Formation) formationJSON {
	return formationJSON{App: idName{ID: app.ID, Name: app.Name}, Command: f.Command, CreatedAt: jsonTime(f.CreatedAt),
		ID: f.ID, Quantity: f.Quantity, Size: displaySize(f.Size), Type: f.Type, UpdatedAt: jsonTime(f.UpdatedAt)}
}

// displaySize writes a dyno size as Heroku's API and CLI show it:
// "free" -> "Free", "standard-1x" -> "Standard-1X", "performance-m" ->
// "Performance-M".
func displaySize(size string) string {
	parts := strings.Split(size, "-")
	for i, p := range parts {
		switch {
		case p == "":
		case i == 0:
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		default:
			parts[i] = strings.ToUpper(p)
		}
	}
	return strings.Join(parts, "-")
}

// appFormation returns an app and its formation.
func (h *Handler) appFormation(r *http.Request) (*bulut.App, []*bulut.Formation, error) {
	ctx := r.Context()
	app, err := h.cfg.Apps.FindApp(ctx, r.PathValue("app"))
	if err != nil {
		return nil, nil, err
	}
	fs, err := h.cfg.Formations.FindFormation(ctx, app.ID)
	return app, fs, err
}

func (h *Handler) listFormation(w http.ResponseWriter, r *http.Request) error {
	app, fs, err := h.appFormation(r)
	if err != nil {
		return err
	}
	out := make([]formationJSON, len(fs))
	for i, f := range fs {
		out[i] = newFormationJSON(app, f)
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (h *Handler) formationInfo(w http.ResponseWriter, r *http.Request) error {
	app, fs, err := h.appFormation(r)
	if err != nil {
		return err
	}
	key := r.PathValue("formation")
	for _, f := range fs {
		if f.Type == key || strings.EqualFold(f.ID, key) {
			writeJSON(w, r, http.StatusOK, newFormationJSON(app, f))
			return nil
		}
	}
	return bulut.NotFound("formation")
}
