package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// dynoJSON is Heroku's Dyno shape (field names as heroku-go v5).
type dynoJSON struct {
	App       idName    `json:"app"`
	AttachURL *string   `json:"attach_url"`
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Release   struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	} `json:"release"`
	Size      string    `json:"size"`
	State     string    `json:"state"`
	Type      string    `json:"type"`
	UpdatedAt time.Time `json:"updated_at"`
}

// newDynoJSON writes a dyno as Heroku does. A one-off dyno waiting for
// its terminal gets a signed attach_url on the API host (see attach.go).
func (h *Handler) newDynoJSON(d *bulut.Dyno, attach bool) dynoJSON {
	j := dynoJSON{App: idName{ID: d.AppID, Name: d.AppName}, Command: d.Command, CreatedAt: jsonTime(d.CreatedAt),
		ID: d.ID, Name: d.Name, Size: bulut.DisplaySize(d.Size), State: d.State, Type: d.Type, UpdatedAt: jsonTime(d.UpdatedAt)}
	j.Release.ID, j.Release.Version = d.ReleaseID, d.ReleaseVersion
	if attach || d.AttachURL != "" {
		u := h.attachURL(d.ID)
		j.AttachURL = &u
	}
	return j
}

// acceptedJSON answers restarts and stops, which Heroku acknowledges with
// an empty object.
func acceptedJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusAccepted, struct{}{})
}

func (h *Handler) listDynos(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.cfg.Dynos.FindDynos(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	out := make([]dynoJSON, len(ds))
	for i, d := range ds {
		out[i] = h.newDynoJSON(d, false)
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (h *Handler) dynoInfo(w http.ResponseWriter, r *http.Request) error {
	d, err := h.cfg.Dynos.FindDyno(r.Context(), r.PathValue("app"), r.PathValue("dyno"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newDynoJSON(d, false))
	return nil
}

// restartAllDynos restarts every dyno of the app (ps:restart).
func (h *Handler) restartAllDynos(w http.ResponseWriter, r *http.Request) error {
	if err := h.cfg.Dynos.RestartDynos(r.Context(), r.PathValue("app"), ""); err != nil {
		return err
	}
	acceptedJSON(w, r)
	return nil
}

// restartDyno restarts one dyno, by ID or name. Older heroku CLIs send a
// process type here too, which restarts its dynos.
func (h *Handler) restartDyno(w http.ResponseWriter, r *http.Request) error {
	if err := h.cfg.Dynos.RestartDynos(r.Context(), r.PathValue("app"), r.PathValue("dyno")); err != nil {
		return err
	}
	acceptedJSON(w, r)
	return nil
}

// processType returns the process type a formation key (type or ID)
// names, or the "process type" not-found error.
func (h *Handler) processType(r *http.Request) (*bulut.App, string, error) {
	app, fs, err := h.appFormation(r)
	if err != nil {
		return nil, "", err
	}
	key := r.PathValue("formation")
	for _, f := range fs {
		if f.Type == key || strings.EqualFold(f.ID, key) {
			return app, f.Type, nil
		}
	}
	return nil, "", &bulut.Error{Code: bulut.ENOTFOUND, Resource: "formation",
		Message: "Couldn't find that process type (" + key + ")."}
}

// restartFormation restarts every dyno of a process type (the heroku
// CLI's `ps:restart --process-type`).
func (h *Handler) restartFormation(w http.ResponseWriter, r *http.Request) error {
	app, typ, err := h.processType(r)
	if err != nil {
		return err
	}
	if err := h.cfg.Dynos.RestartDynos(r.Context(), app.ID, typ); err != nil {
		return err
	}
	acceptedJSON(w, r)
	return nil
}

// stopDyno stops a dyno: a formation dyno is started again by the
// scheduler, a one-off is gone.
func (h *Handler) stopDyno(w http.ResponseWriter, r *http.Request) error {
	if err := h.cfg.Dynos.StopDyno(r.Context(), r.PathValue("app"), r.PathValue("dyno")); err != nil {
		return err
	}
	acceptedJSON(w, r)
	return nil
}

// stopFormation stops every dyno of a process type.
func (h *Handler) stopFormation(w http.ResponseWriter, r *http.Request) error {
	app, typ, err := h.processType(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	ds, err := h.cfg.Dynos.FindDynos(ctx, app.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Type != typ {
			continue
		}
		if err := h.cfg.Dynos.StopDyno(ctx, app.ID, d.ID); err != nil && bulut.ErrorCode(err) != bulut.ENOTFOUND {
			return err
		}
	}
	acceptedJSON(w, r)
	return nil
}

// maxTimeToLive is the longest time_to_live a one-off may ask for, as
// Heroku's (24 h).
const maxTimeToLive = 86400

// createDyno starts a one-off dyno (`run`, `run:detached`).
func (h *Handler) createDyno(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Command    string                     `json:"command"`
		Attach     *bool                      `json:"attach"`
		Env        map[string]json.RawMessage `json:"env"`
		ForceNoTTY *bool                      `json:"force_no_tty"`
		Size       *string                    `json:"size"`
		Type       *string                    `json:"type"`
		TimeToLive *int                       `json:"time_to_live"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Command) == "" {
		return bulut.Errorf(bulut.EINVALID, "A command to run is required (\"command\").")
	}
	if t := body.TimeToLive; t != nil && (*t < 1 || *t > maxTimeToLive) {
		return bulut.Errorf(bulut.EINVALID, "time_to_live must be between 1 and %d seconds.", maxTimeToLive)
	}
	env, err := envStrings(body.Env)
	if err != nil {
		return err
	}
	run := bulut.DynoRun{Command: body.Command, Attach: body.Attach != nil && *body.Attach, Env: env}
	if body.Size != nil {
		run.Size = strings.ToLower(strings.TrimSpace(*body.Size))
	}
	if body.Type != nil {
		run.Type = strings.TrimSpace(*body.Type)
	}
	d, err := h.cfg.Dynos.RunDyno(r.Context(), r.PathValue("app"), run)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, h.newDynoJSON(d, run.Attach))
	return nil
}

// envStrings reads a one-off's env: string values, and numbers or
// booleans as their JSON text (the heroku CLI sends COLUMNS and LINES as
// numbers). null leaves a variable out.
func envStrings(raw map[string]json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			return nil, bulut.Errorf(bulut.EINVALID, "Invalid environment variable name %q.", k)
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, bulut.Errorf(bulut.EINVALID, "Invalid value for env %s.", k)
			}
			env[k] = s
		case string(v) == "true" || string(v) == "false" || json.Valid(v) && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
			env[k] = string(v)
		default:
			return nil, bulut.Errorf(bulut.EINVALID, "Invalid value for env %s: give a string.", k)
		}
	}
	return env, nil
}
