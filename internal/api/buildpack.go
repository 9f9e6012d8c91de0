package api

import (
	"net/http"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// buildpackURNPrefix starts Heroku's URNs of registry buildpacks
// (urn:buildpack:heroku/python); bulut stores the bare name.
const buildpackURNPrefix = "urn:buildpack:"

// buildpackInstallationJSON is Heroku's BuildpackInstallation shape.
type buildpackInstallationJSON struct {
	Buildpack buildpackRef `json:"buildpack"`
	Ordinal   int          `json:"ordinal"`
}

func buildpackInstallations(bps []string) []buildpackInstallationJSON {
	out := make([]buildpackInstallationJSON, len(bps))
	for i, bp := range bps {
		out[i] = buildpackInstallationJSON{Buildpack: newBuildpackRef(bp), Ordinal: i}
	}
	return out
}

func (h *Handler) listBuildpacks(w http.ResponseWriter, r *http.Request) error {
	bps, err := h.cfg.Buildpacks.FindBuildpacks(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, buildpackInstallations(bps))
	return nil
}

// updateBuildpacks is PUT /apps/{app}/buildpack-installations
// {"updates":[{"buildpack":"URL or name"}]}: it replaces the list.
func (h *Handler) updateBuildpacks(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Updates *[]struct {
			Buildpack *string `json:"buildpack"`
		} `json:"updates"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Updates == nil {
		return bulut.Errorf(bulut.EINVALID, "Missing updates: send {\"updates\":[{\"buildpack\":\"URL or name\"}, ...]}.")
	}
	bps := make([]string, 0, len(*body.Updates))
	for i, u := range *body.Updates {
		bp := ""
		if u.Buildpack != nil {
			bp = strings.TrimSpace(strings.TrimPrefix(*u.Buildpack, buildpackURNPrefix))
		}
		if bp == "" {
			return bulut.Errorf(bulut.EINVALID, "Buildpack %d has no buildpack URL or name.", i+1)
		}
		bps = append(bps, bp)
	}
	ctx, app := r.Context(), r.PathValue("app")
	if err := h.cfg.Buildpacks.SetBuildpacks(ctx, app, bps); err != nil {
		return err
	}
	bps, err := h.cfg.Buildpacks.FindBuildpacks(ctx, app)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, buildpackInstallations(bps))
	return nil
}
