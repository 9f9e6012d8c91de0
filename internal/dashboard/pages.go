package dashboard

import (
	"net/http"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// appView is an app as the pages show it.
type appView struct {
	*bulut.App
	WebURL string
	GitURL string
}

func (h *Handler) appView(a *bulut.App) appView {
	return appView{App: a, WebURL: h.cfg.URLs.WebURL(a.Name), GitURL: h.cfg.URLs.GitURL(a.Name)}
}

// appList is the Data of the apps page.
type appList struct {
	Apps []appView
	More bool // the list was cut at MaxPageSize
}

func (h *Handler) appsPage(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	apps, more, err := h.cfg.Apps.FindApps(s.accountContext(r.Context()),
		bulut.AppFilter{Range: bulut.ListRange{Field: "name", Max: bulut.MaxPageSize}})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	list := appList{Apps: make([]appView, len(apps)), More: more}
	for i, a := range apps {
		list.Apps[i] = h.appView(a)
	}
	p := page{Title: "Apps", Data: list}
	// Only a well-formed name is echoed back, so the notice can't be made
	// to say anything else.
	if name := r.URL.Query().Get("deleted"); name != "" && bulut.ValidateAppName(name) == nil {
		p.Notice = "Deleted ⬢ " + name
	}
	h.render(w, r, http.StatusOK, "apps", p)
}

// newApp is the Data of the create-app page.
type newApp struct{ Name string }

func (h *Handler) newAppPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "new", page{Title: "Create new app", Data: newApp{}})
}

func (h *Handler) createApp(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	app, err := h.cfg.Apps.CreateApp(s.accountContext(r.Context()), name)
	if err != nil {
		h.renderFormError(w, r, "new", page{Title: "Create new app", Data: newApp{Name: name}}, err)
		return
	}
	h.logger.Info("app created", "app", app.Name, "account", s.Account.ID)
	http.Redirect(w, r, "/apps/"+app.Name, http.StatusSeeOther)
}

// findApp returns the app named in the path, or shows the error page (404
// for another account's app) and returns nil.
func (h *Handler) findApp(w http.ResponseWriter, r *http.Request) *bulut.App {
	s := sessionFrom(r.Context())
	app, err := h.cfg.Apps.FindApp(s.accountContext(r.Context()), r.PathValue("name"))
	if err != nil {
		h.errorPage(w, r, err)
		return nil
	}
	return app
}

func (h *Handler) appPage(w http.ResponseWriter, r *http.Request) {
	if app := h.findApp(w, r); app != nil {
		h.render(w, r, http.StatusOK, "app", page{Title: "⬢ " + app.Name, Data: h.appView(app)})
	}
}

// deleteApp deletes an app once its name has been typed again.
func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request) {
	app := h.findApp(w, r)
	if app == nil {
		return
	}
	p := page{Title: "⬢ " + app.Name, Data: h.appView(app)}
	if strings.TrimSpace(r.PostFormValue("confirm")) != app.Name {
		h.renderFormError(w, r, "app", p, bulut.Errorf(bulut.EINVALID,
			"The name you typed does not match ⬢ %s. Nothing was deleted.", app.Name))
		return
	}
	s := sessionFrom(r.Context())
	if _, err := h.cfg.Apps.DeleteApp(s.accountContext(r.Context()), app.ID); err != nil {
		h.renderFormError(w, r, "app", p, err)
		return
	}
	h.logger.Info("app deleted", "app", app.Name, "account", s.Account.ID)
	http.Redirect(w, r, "/?deleted="+app.Name, http.StatusSeeOther)
}
