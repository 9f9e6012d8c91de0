package dashboard

import (
	"net/http"

	"github.com/bulut-bulut/bulut"
)

// cliLogin is the Data of the page that approves a `bulut login`.
type cliLogin struct {
	Session *bulut.LoginSession
}

// findLoginSession returns the login session in the path, or shows why it
// can't be approved (404, or 410 once expired) and returns nil.
func (h *Handler) findLoginSession(w http.ResponseWriter, r *http.Request) *bulut.LoginSession {
	ls, err := h.cfg.LoginSessions.FindLoginSession(r.Context(), r.PathValue("id"))
	if err != nil {
		h.errorPage(w, r, err)
		return nil
	}
	return ls
}

// cliLoginPage asks the logged-in user to approve a CLI login. A request
// that can't be approved says so before asking anyone to log in.
func (h *Handler) cliLoginPage(w http.ResponseWriter, r *http.Request) {
	ls := h.findLoginSession(w, r)
	if ls == nil {
		return
	}
	if sessionFrom(r.Context()) == nil {
		http.Redirect(w, r, loginURL(r.URL.Path), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "clilogin", page{Title: "Log in to the bulut CLI", Data: cliLogin{Session: ls}})
}

// cliLogin approves the login, or cancels it (the CLI then waits until the
// request expires).
func (h *Handler) cliLogin(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("action") == "cancel" {
		h.renderMessage(w, r, http.StatusOK, "Login cancelled", "The CLI was not logged in. You can close this window.")
		return
	}
	s := sessionFrom(r.Context())
	if err := h.cfg.LoginSessions.ApproveLoginSession(r.Context(), r.PathValue("id"), s.Account.ID); err != nil {
		h.errorPage(w, r, err)
		return
	}
	h.logger.Info("cli login approved", "account", s.Account.ID)
	h.renderMessage(w, r, http.StatusOK, "Logged in", "Logged in. You can close this window and return to your terminal.")
}
