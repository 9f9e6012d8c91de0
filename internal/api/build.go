package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// buildpackRef names a buildpack as builds and buildpack installations
// show it.
type buildpackRef struct {
	URL  string `json:"url"`
	Name string `json:"name"`
}

// buildJSON is Heroku's Build shape (field names as heroku-go v5, plus
// v6's source_blob.version_description).
type buildJSON struct {
	App             idRef          `json:"app"`
	Buildpacks      []buildpackRef `json:"buildpacks"`
	CreatedAt       time.Time      `json:"created_at"`
	ID              string         `json:"id"`
	OutputStreamURL string         `json:"output_stream_url"`
	Release         *idRef         `json:"release"`
	Slug            *idRef         `json:"slug"`
	SourceBlob      struct {
		Checksum           *string `json:"checksum"`
		URL                string  `json:"url"`
		Version            *string `json:"version"`
		VersionDescription *string `json:"version_description"`
	} `json:"source_blob"`
	Stack     string    `json:"stack"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
	User      userRef   `json:"user"`
}

func (h *Handler) newBuildJSON(b *bulut.Build) buildJSON {
	j := buildJSON{App: idRef{ID: b.AppID}, Buildpacks: make([]buildpackRef, len(b.Buildpacks)),
		CreatedAt: jsonTime(b.CreatedAt), ID: b.ID, OutputStreamURL: h.buildOutputURL(b.ID),
		Stack: bulut.DefaultStack, Status: b.Status, UpdatedAt: jsonTime(b.UpdatedAt),
		User: userRef{Email: b.UserEmail, ID: b.UserID}}
	for i, bp := range b.Buildpacks {
		j.Buildpacks[i] = newBuildpackRef(bp)
	}
	if b.SlugID != "" {
		j.Slug = &idRef{ID: b.SlugID}
	}
	if b.ReleaseID != "" {
		j.Release = &idRef{ID: b.ReleaseID}
	}
	if b.SourceVersion != "" {
		v := b.SourceVersion
		j.SourceBlob.Version = &v
	}
	return j
}

// Builds are ranged by created_at (Heroku's CLI asks for started_at, the
// same thing here) or id.
var buildRangeFields = []string{"created_at", "started_at", "id"}

const rangeTimeFormat = "2006-01-02T15:04:05.000000Z"

func (h *Handler) listBuilds(w http.ResponseWriter, r *http.Request) error {
	rng, err := listRange(r, "created_at", buildRangeFields...)
	if err != nil {
		return err
	}
	query := rng
	if query.Field == "started_at" {
		query.Field = "created_at"
	}
	builds, more, err := h.cfg.Builds.FindBuilds(r.Context(), r.PathValue("app"), query)
	if err != nil {
		return err
	}
	out := make([]buildJSON, len(builds))
	for i, b := range builds {
		out[i] = h.newBuildJSON(b)
	}
	last := ""
	if n := len(builds); n > 0 {
		last = builds[n-1].ID
		if query.Field == "created_at" {
			last = builds[n-1].CreatedAt.UTC().Format(rangeTimeFormat)
		}
	}
	writeList(w, r, rng, out, more, last, buildRangeFields...)
	return nil
}

func (h *Handler) buildInfo(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("build")
	if !bulut.IsID(id) {
		return bulut.NotFound("build")
	}
	b, err := h.cfg.Builds.FindBuild(r.Context(), r.PathValue("app"), id)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newBuildJSON(b))
	return nil
}

// deleteBuildCache is DELETE /apps/{app}/build-cache: the next build of
// the app starts with an empty cache.
func (h *Handler) deleteBuildCache(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	if h.cfg.BuildCache != nil {
		if err := h.cfg.BuildCache.PurgeBuildCache(r.Context(), app.ID); err != nil {
			return err
		}
	}
	writeJSON(w, r, http.StatusAccepted, struct{}{})
	return nil
}

// newBuildpackRef shows a buildpack: Heroku's URN form (urn:buildpack:NAME)
// names a registry buildpack; anything else is its own name.
func newBuildpackRef(bp string) buildpackRef {
	name := strings.TrimPrefix(bp, buildpackURNPrefix)
	return buildpackRef{URL: bp, Name: name}
}
