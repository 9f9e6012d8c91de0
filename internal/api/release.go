package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bulut-bulut/bulut"
)

// idRef points at another resource by ID alone (a slug, a release).
type idRef struct {
	ID string `json:"id"`
}

// userRef is the account that made a release or a build.
type userRef struct {
	Email string `json:"email"`
	ID    string `json:"id"`
}

// releaseJSON is Heroku's Release shape (field names as heroku-go v5).
type releaseJSON struct {
	AddonPlanNames  []string  `json:"addon_plan_names"`
	App             idName    `json:"app"`
	CreatedAt       time.Time `json:"created_at"`
	Current         bool      `json:"current"`
	Description     string    `json:"description"`
	ID              string    `json:"id"`
	OutputStreamURL *string   `json:"output_stream_url"`
	Slug            *idRef    `json:"slug"`
	Status          string    `json:"status"`
	UpdatedAt       time.Time `json:"updated_at"`
	User            userRef   `json:"user"`
	Version         int       `json:"version"`
}

func newReleaseJSON(r *bulut.Release) releaseJSON {
	j := releaseJSON{AddonPlanNames: []string{}, App: idName{ID: r.AppID, Name: r.AppName},
		CreatedAt: jsonTime(r.CreatedAt), Current: r.Current, Description: r.Description, ID: r.ID,
		Status: r.Status, UpdatedAt: jsonTime(r.UpdatedAt), User: userRef{Email: r.UserEmail, ID: r.UserID},
		Version: r.Version}
	if r.SlugID != "" {
		j.Slug = &idRef{ID: r.SlugID}
	}
	return j
}

var releaseRangeFields = []string{"version", "id"}

func (h *Handler) listReleases(w http.ResponseWriter, r *http.Request) error {
	rng, err := listRange(r, "version", releaseRangeFields...)
	if err != nil {
		return err
	}
	releases, more, err := h.cfg.Releases.FindReleases(r.Context(), r.PathValue("app"), rng)
	if err != nil {
		return err
	}
	out := make([]releaseJSON, len(releases))
	for i, rel := range releases {
		out[i] = newReleaseJSON(rel)
	}
	last := ""
	if n := len(releases); n > 0 {
		last = releases[n-1].ID
		if rng.Field == "version" {
			last = strconv.Itoa(releases[n-1].Version)
		}
	}
	writeList(w, r, rng, out, more, last, releaseRangeFields...)
	return nil
}

func (h *Handler) releaseInfo(w http.ResponseWriter, r *http.Request) error {
	rel, err := h.cfg.Releases.FindRelease(r.Context(), r.PathValue("app"), r.PathValue("release"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, newReleaseJSON(rel))
	return nil
}

// createRelease is POST /apps/{app}/releases: a rollback with
// {"release": ID_OR_VERSION}, or a release of an existing slug with
// {"slug": ID, "description": ...}.
func (h *Handler) createRelease(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Release     *string `json:"release"`
		Slug        *string `json:"slug"`
		Description *string `json:"description"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	ctx, app := r.Context(), r.PathValue("app")
	var rel *bulut.Release
	var err error
	switch {
	case body.Release != nil && body.Slug != nil:
		return bulut.Errorf(bulut.EINVALID, "Give either release (to roll back) or slug (to release a slug), not both.")
	case body.Release != nil:
		if *body.Release == "" {
			return bulut.Errorf(bulut.EINVALID, "release must name a release by ID or version.")
		}
		rel, err = h.cfg.Releases.Rollback(ctx, app, *body.Release)
	case body.Slug != nil:
		if !bulut.IsID(*body.Slug) {
			return bulut.Errorf(bulut.EINVALID, "slug must be a slug's ID.")
		}
		slug, err := h.cfg.Slugs.FindSlug(ctx, app, *body.Slug)
		if err != nil {
			return err
		}
		desc := "Deploy"
		if body.Description != nil && *body.Description != "" {
			desc = *body.Description
		} else if slug.Commit != "" {
			desc = "Deploy " + shortCommit(slug.Commit)
		}
		rel, err = h.cfg.Releases.CreateRelease(ctx, app, slug.ID, desc)
		if err != nil {
			return err
		}
	default:
		return bulut.Errorf(bulut.EINVALID, "Missing release (to roll back) or slug (to release a slug).")
	}
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, newReleaseJSON(rel))
	return nil
}

// shortCommit is the first 8 characters of a commit, as release
// descriptions show it.
func shortCommit(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

func (h *Handler) releaseConfigVars(w http.ResponseWriter, r *http.Request) error {
	rel, err := h.cfg.Releases.FindRelease(r.Context(), r.PathValue("app"), r.PathValue("release"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, configVarsJSON(rel.ConfigVars))
	return nil
}
