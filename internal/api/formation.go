package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
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
		ID: f.ID, Quantity: f.Quantity, Size: bulut.DisplaySize(f.Size), Type: f.Type, UpdatedAt: jsonTime(f.UpdatedAt)}
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

// formationUpdateJSON is one process type's change. Clients send the
// quantity as a number (heroku-go) or a string that may be relative
// ("2", "+1", "-1": the heroku CLI), and the size as "size" (v5) or
// "dyno_size":{"name"} (heroku-go v6), in any case.
type formationUpdateJSON struct {
	Type     string          `json:"type"`
	Quantity json.RawMessage `json:"quantity"`
	Size     *string         `json:"size"`
	DynoSize *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"dyno_size"`
}

// update turns the JSON into a bulut.FormationUpdate of process type typ.
func (u formationUpdateJSON) update(typ string) (bulut.FormationUpdate, error) {
	out := bulut.FormationUpdate{Type: typ}
	q := bytes.TrimSpace(u.Quantity)
	switch {
	case len(q) == 0 || string(q) == "null":
	case q[0] == '"':
		var s string
		if err := json.Unmarshal(q, &s); err != nil {
			return out, bulut.Errorf(bulut.EINVALID, "Invalid quantity for %s: %s.", typ, q)
		}
		s = strings.TrimSpace(s)
		n, err := strconv.Atoi(s)
		if err != nil {
			return out, bulut.Errorf(bulut.EINVALID, "Invalid quantity for %s: %q. Give a number, or a relative one like +1 or -1.", typ, s)
		}
		if s[0] == '+' || s[0] == '-' {
			out.Delta = &n
		} else {
			out.Quantity = &n
		}
	default:
		var f float64
		if err := json.Unmarshal(q, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return out, bulut.Errorf(bulut.EINVALID, "Invalid quantity for %s: %s. Give a whole number.", typ, q)
		}
		n := int(f)
		out.Quantity = &n
	}
	var size string
	switch {
	case u.Size != nil:
		size = *u.Size
	case u.DynoSize != nil:
		size = cmp.Or(u.DynoSize.Name, u.DynoSize.ID)
	}
	if size = strings.ToLower(strings.TrimSpace(size)); size != "" {
		out.Size = &size
	}
	return out, nil
}

// formationType returns the process type a key (a type or a formation
// ID) names; an unknown key is returned as it is, for UpdateFormation
// to reject.
func formationType(fs []*bulut.Formation, key string) string {
	for _, f := range fs {
		if f.Type == key || strings.EqualFold(f.ID, key) {
			return f.Type
		}
	}
	return key
}

// updateFormation applies updates and writes the formations of the types
// they changed, or only the one for a single update (PATCH
// /apps/{app}/formation/{formation}).
func (h *Handler) updateFormation(w http.ResponseWriter, r *http.Request, app *bulut.App, updates []bulut.FormationUpdate, single bool) error {
	fs, err := h.cfg.Formations.UpdateFormation(r.Context(), app.ID, updates)
	if err != nil {
		return err
	}
	out := []formationJSON{}
	for _, f := range fs {
		if slices.ContainsFunc(updates, func(u bulut.FormationUpdate) bool { return u.Type == f.Type }) {
			out = append(out, newFormationJSON(app, f))
		}
	}
	if single {
		if len(out) != 1 {
			return bulut.NotFound("formation")
		}
		writeJSON(w, r, http.StatusOK, out[0])
		return nil
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (h *Handler) batchUpdateFormation(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Updates []formationUpdateJSON `json:"updates"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if len(body.Updates) == 0 {
		return bulut.Errorf(bulut.EINVALID, "No updates: send {\"updates\":[{\"type\":\"web\",\"quantity\":1}]}.")
	}
	app, fs, err := h.appFormation(r)
	if err != nil {
		return err
	}
	updates := make([]bulut.FormationUpdate, len(body.Updates))
	for i, u := range body.Updates {
		if u.Type == "" {
			return bulut.Errorf(bulut.EINVALID, "Each update needs the process type it changes (\"type\").")
		}
		if updates[i], err = u.update(formationType(fs, u.Type)); err != nil {
			return err
		}
	}
	return h.updateFormation(w, r, app, updates, false)
}

func (h *Handler) updateFormationType(w http.ResponseWriter, r *http.Request) error {
	var body formationUpdateJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	app, fs, err := h.appFormation(r)
	if err != nil {
		return err
	}
	u, err := body.update(formationType(fs, r.PathValue("formation")))
	if err != nil {
		return err
	}
	return h.updateFormation(w, r, app, []bulut.FormationUpdate{u}, true)
}
