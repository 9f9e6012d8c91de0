// Package dashboard serves the platform's web dashboard: server-rendered
// pages (html/template, embedded CSS, no JavaScript) on dashboard.DOMAIN for
// signing up, logging in, approving CLI logins and managing apps. It calls
// the domain services directly, never the API over HTTP.
package dashboard

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// Config holds the services and settings the dashboard runs on.
type Config struct {
	bulut.Services
	URLs       bulut.URLs
	SignupOpen bool // false: the signup page says sign-up is closed and POST /signup refuses
	Logger     *slog.Logger
}

// Handler is the dashboard's http.Handler, mounted at the root of
// dashboard.DOMAIN.
type Handler struct {
	cfg    Config
	logger *slog.Logger
	mux    *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// maxFormBytes bounds the body of every form post.
const maxFormBytes = 64 << 10

// New returns a dashboard handler for cfg.
func New(cfg Config) *Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, logger: logger.With("component", "dashboard"), mux: http.NewServeMux()}
	h.routes()
	return h
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /static/style.css", serveStyle)

	h.mux.HandleFunc("GET /signup", h.signupPage)
	h.mux.HandleFunc("POST /signup", h.signup)
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.private(h.logout))

	h.mux.HandleFunc("GET /{$}", h.private(h.appsPage))
	h.mux.HandleFunc("GET /new", h.private(h.newAppPage))
	h.mux.HandleFunc("POST /new", h.private(h.createApp))
	h.mux.HandleFunc("GET /apps/{name}", h.private(h.appPage))
	h.mux.HandleFunc("POST /apps/{name}/delete", h.private(h.deleteApp))

	h.mux.HandleFunc("GET /cli-login/{id}", h.cliLoginPage)
	h.mux.HandleFunc("POST /cli-login/{id}", h.private(h.cliLogin))

	h.mux.HandleFunc("/", h.notFound)
}

// ServeHTTP sets the headers every response carries, refuses cross-origin
// posts, resolves the session cookie and dispatches to the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

	if strings.HasPrefix(r.URL.Path, "/static/") {
		h.mux.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodPost {
		if !sameOrigin(r) {
			h.renderMessage(w, r, http.StatusForbidden, "Forbidden", "This form was sent from another site, so it was refused.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	s, err := h.resolveSession(w, r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(withSession(r.Context(), s)))
}

// private wraps a page that needs a logged-in account: without one, GETs
// are sent to the login page (and back after logging in); posts must carry
// the session's CSRF token.
func (h *Handler) private(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := sessionFrom(r.Context())
		if s == nil {
			next := ""
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, loginURL(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !s.checkCSRF(r.PostFormValue("csrf")) {
			h.renderMessage(w, r, http.StatusForbidden, "Forbidden", "This form has expired or did not come from this page. Go back, reload the page and try again.")
			return
		}
		fn(w, r)
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusNotFound, "Page not found", "The page you were looking for doesn't exist.")
}

// serverError logs an internal error and shows a page that tells nothing of it.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	bulut.ReportError(err, "component", "dashboard", "path", r.URL.Path)
	h.renderMessage(w, r, http.StatusInternalServerError, "Error", "Something went wrong.")
}

// errorPage shows a service error as a page of its own: internal errors as
// serverError, others with their message and status.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	if bulut.ErrorCode(err) == bulut.EINTERNAL {
		h.serverError(w, r, err)
		return
	}
	h.renderMessage(w, r, statusOf(err), "Error", bulut.ErrorMessage(err))
}

// statusOf is the HTTP status of an error's page; a login still pending
// is a conflict for a page, not the API's 202.
func statusOf(err error) int {
	if code := bulut.ErrorCode(err); code != bulut.EPENDING {
		return bulut.ErrorStatus(code)
	}
	return http.StatusConflict
}
