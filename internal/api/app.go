package api

import (
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Fixed identities of the one region and stack a bulut server has.
var (
	regions = map[string]idName{bulut.DefaultRegion: {ID: "a7d9b2a4-3f2e-4b8c-9d51-6c0e8f1b2a01", Name: bulut.DefaultRegion}}
	stacks  = map[string]idName{bulut.DefaultStack: {ID: "f9a4c7e2-1b3d-4e5f-8a6b-7c9d0e1f2a24", Name: bulut.DefaultStack}}
)

// appJSON is Heroku's App shape (field names as heroku-go v5).
type appJSON struct {
	ACM                          bool       `json:"acm"`
	ArchivedAt                   *time.Time `json:"archived_at"`
	BuildStack                   idName     `json:"build_stack"`
	BuildpackProvidedDescription *string    `json:"buildpack_provided_description"`
	CreatedAt                    time.Time  `json:"created_at"`
	GitURL                       string     `json:"git_url"`
	ID                           string     `json:"id"`
	InternalRouting              *bool      `json:"internal_routing"`
	Maintenance                  bool       `json:"maintenance"`
	Name                         string     `json:"name"`
	Organization                 *idName    `json:"organization"`
	Owner                        struct {
		Email string `json:"email"`
		ID    string `json:"id"`
	} `json:"owner"`
	Region     idName     `json:"region"`
	ReleasedAt *time.Time `json:"released_at"`
	RepoSize   *int       `json:"repo_size"`
	SlugSize   *int       `json:"slug_size"`
	Space      *idName    `json:"space"`
	Stack      idName     `json:"stack"`
	Team       *idName    `json:"team"`
	UpdatedAt  time.Time  `json:"updated_at"`
	WebURL     string     `json:"web_url"`
}

func (h *Handler) newAppJSON(a *bulut.App) appJSON {
	j := appJSON{BuildStack: stacks[a.Stack], CreatedAt: jsonTime(a.CreatedAt), GitURL: h.cfg.URLs.GitURL(a.Name),
		ID: a.ID, Maintenance: a.Maintenance, Name: a.Name, Region: regions[a.Region], ReleasedAt: jsonTimePtr(a.ReleasedAt),
		Stack: stacks[a.Stack], UpdatedAt: jsonTime(a.UpdatedAt), WebURL: h.cfg.URLs.WebURL(a.Name)}
	j.Owner.Email, j.Owner.ID = a.OwnerEmail, a.OwnerID
	return j
}

// checkKnown validates an optional region or stack name against the ones
// this server has.
func checkKnown(kind string, value *string, known map[string]idName) error {
	if value == nil {
		return nil
	}
	for name, v := range known {
		if *value == name || *value == v.ID {
			return nil
		}
	}
	var names []string
	for name := range known {
		names = append(names, name)
	}
	return bulut.Errorf(bulut.EINVALID, "Couldn't find that %s (%q). This server has: %v.", kind, *value, names)
}

func (h *Handler) createApp(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name   *string `json:"name"`
		Region *string `json:"region"`
		Stack  *string `json:"stack"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := checkKnown("region", body.Region, regions); err != nil {
		return err
	}
	if err := checkKnown("stack", body.Stack, stacks); err != nil {
		return err
	}
	name := ""
	if body.Name != nil {
		if name = *body.Name; name == "" {
			return bulut.ValidateAppName(name)
		}
	}
	app, err := h.cfg.Apps.CreateApp(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, h.newAppJSON(app))
	return nil
}

var appRangeFields = []string{"id", "name", "updated_at"}

func (h *Handler) listApps(w http.ResponseWriter, r *http.Request) error {
	rng, err := listRange(r, "id", appRangeFields...)
	if err != nil {
		return err
	}
	apps, more, err := h.cfg.Apps.FindApps(r.Context(), bulut.AppFilter{Range: rng})
	if err != nil {
		return err
	}
	out := make([]appJSON, len(apps))
	for i, a := range apps {
		out[i] = h.newAppJSON(a)
	}
	last := ""
	if len(apps) > 0 {
		last = appRangeValue(apps[len(apps)-1], rng.Field)
	}
	writeList(w, r, rng, out, more, last, appRangeFields...)
	return nil
}

func appRangeValue(a *bulut.App, field string) string {
	switch field {
	case "name":
		return a.Name
	case "updated_at":
		return a.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return a.ID
}

// listUserApps answers GET /users/{account}/apps for the caller's own
// account ("~", its e-mail or its ID); other accounts are not visible.
func (h *Handler) listUserApps(w http.ResponseWriter, r *http.Request) error {
	acct := bulut.AccountFromContext(r.Context())
	if who := r.PathValue("account"); who != "~" && who != acct.ID && bulut.NormalizeEmail(who) != acct.Email {
		return bulut.NotFound("account")
	}
	return h.listApps(w, r)
}

func (h *Handler) appInfo(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newAppJSON(app))
	return nil
}

func (h *Handler) updateApp(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		BuildStack  *string `json:"build_stack"`
		Maintenance *bool   `json:"maintenance"`
		Name        *string `json:"name"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := checkKnown("stack", body.BuildStack, stacks); err != nil {
		return err
	}
	app, err := h.cfg.Apps.UpdateApp(r.Context(), r.PathValue("app"), bulut.AppUpdate{Name: body.Name, Maintenance: body.Maintenance})
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newAppJSON(app))
	return nil
}

func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.DeleteApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newAppJSON(app))
	return nil
}
