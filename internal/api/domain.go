package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// domainJSON is Heroku's Domain shape. An app's own host is listed first,
// as Heroku lists APP.herokuapp.com, with kind "heroku"; custom domains
// have kind "custom" and point (cname) at the app's host.
type domainJSON struct {
	AcmStatus       *string   `json:"acm_status"`
	AcmStatusReason *string   `json:"acm_status_reason"`
	App             idName    `json:"app"`
	CName           *string   `json:"cname"`
	CreatedAt       time.Time `json:"created_at"`
	Hostname        string    `json:"hostname"`
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	SniEndpoint     *idName   `json:"sni_endpoint"`
	Status          string    `json:"status"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func (h *Handler) newDomainJSON(app *bulut.App, d *bulut.Domain) domainJSON {
	cname := h.cfg.URLs.AppHost(app.Name)
	return domainJSON{App: idName{ID: app.ID, Name: app.Name}, CName: &cname, CreatedAt: jsonTime(d.CreatedAt),
		Hostname: d.Hostname, ID: d.ID, Kind: "custom", Status: "succeeded", UpdatedAt: jsonTime(d.UpdatedAt)}
}

// appDomainJSON is the app's own host as a domain (its ID is the app's).
func (h *Handler) appDomainJSON(app *bulut.App) domainJSON {
	return domainJSON{App: idName{ID: app.ID, Name: app.Name}, CreatedAt: jsonTime(app.CreatedAt),
		Hostname: h.cfg.URLs.AppHost(app.Name), ID: app.ID, Kind: "heroku", Status: "succeeded", UpdatedAt: jsonTime(app.CreatedAt)}
}

func (h *Handler) listDomains(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	ds, err := h.cfg.Domains.FindDomains(r.Context(), app.ID)
	if err != nil {
		return err
	}
	out := []domainJSON{h.appDomainJSON(app)}
	for _, d := range ds {
		out = append(out, h.newDomainJSON(app, d))
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (h *Handler) createDomain(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Hostname *string `json:"hostname"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Hostname == nil {
		return bulut.Errorf(bulut.EINVALID, "A domain needs a hostname (\"hostname\").")
	}
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	d, err := h.cfg.Domains.CreateDomain(r.Context(), app.ID, *body.Hostname)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, h.newDomainJSON(app, d))
	return nil
}

// domainInfo shows one domain, by ID or host name.
func (h *Handler) domainInfo(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	key := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r.PathValue("domain"))), ".")
	if key == app.ID || key == h.cfg.URLs.AppHost(app.Name) {
		writeJSON(w, r, http.StatusOK, h.appDomainJSON(app))
		return nil
	}
	ds, err := h.cfg.Domains.FindDomains(r.Context(), app.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.ID == key || d.Hostname == key {
			writeJSON(w, r, http.StatusOK, h.newDomainJSON(app, d))
			return nil
		}
	}
	return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "domain", Message: "Couldn't find that domain."}
}

func (h *Handler) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	d, err := h.cfg.Domains.DeleteDomain(r.Context(), app.ID, r.PathValue("domain"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newDomainJSON(app, d))
	return nil
}
