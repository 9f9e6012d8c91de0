package dashboard

import (
	"net/http"

	"github.com/bulut-bulut/bulut"
)

// credentials is the Data of the login and signup pages: what the user typed
// (never the password) and where to go afterwards.
type credentials struct {
	Email      string
	Next       string
	SignupOpen bool
}

func (h *Handler) credentials(r *http.Request) credentials {
	return credentials{Email: r.PostFormValue("email"), Next: r.FormValue("next"), SignupOpen: h.cfg.SignupOpen}
}

// loggedInRedirect sends a logged-in user on from the login and signup
// pages, and reports whether it did.
func loggedInRedirect(w http.ResponseWriter, r *http.Request) bool {
	if sessionFrom(r.Context()) == nil {
		return false
	}
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
	return true
}

func (h *Handler) signupPage(w http.ResponseWriter, r *http.Request) {
	if loggedInRedirect(w, r) {
		return
	}
	h.render(w, r, http.StatusOK, "signup", page{Title: "Sign up", Data: h.credentials(r)})
}

func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Sign up", Data: h.credentials(r)}
	if !h.cfg.SignupOpen { // the page says so
		h.render(w, r, http.StatusForbidden, "signup", p)
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		h.renderFormError(w, r, "signup", p, bulut.Errorf(bulut.EINVALID, "The passwords do not match."))
		return
	}
	acct, err := h.cfg.Accounts.CreateAccount(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		h.renderFormError(w, r, "signup", p, err)
		return
	}
	h.logger.Info("account signed up", "account", acct.ID)
	h.finishLogin(w, r, acct)
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if loggedInRedirect(w, r) {
		return
	}
	h.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: h.credentials(r)})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	acct, err := h.cfg.Accounts.Authenticate(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		h.renderFormError(w, r, "login", page{Title: "Log in", Data: h.credentials(r)}, err)
		return
	}
	h.finishLogin(w, r, acct)
}

// finishLogin starts a session for acct and sends the browser on.
func (h *Handler) finishLogin(w http.ResponseWriter, r *http.Request, acct *bulut.Account) {
	if err := h.startSession(w, r, acct); err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.endSession(r); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// renderFormError shows a form page again with err's message, keeping what
// the user typed (in p); internal errors get the 500 page instead.
func (h *Handler) renderFormError(w http.ResponseWriter, r *http.Request, name string, p page, err error) {
	if bulut.ErrorCode(err) == bulut.EINTERNAL {
		h.serverError(w, r, err)
		return
	}
	p.Error = bulut.ErrorMessage(err)
	h.render(w, r, statusOf(err), name, p)
}
