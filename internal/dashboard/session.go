package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/bulut-bulut/bulut"
)

// A dashboard session is an API token (an Authorization) kept in a cookie,
// so it shows in the account's authorizations and can be revoked like any
// other token.
const (
	sessionCookie      = "bulut_session"
	sessionDescription = "Dashboard session"
	sessionTTL         = 30 * 24 * time.Hour
)

// session is the logged-in state of a request.
type session struct {
	Account       *bulut.Account
	Authorization *bulut.Authorization
	Token         string
}

type sessionKey struct{}

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// sessionFrom returns the request's session, nil when logged out.
func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// accountContext returns the context domain services act in for s.
func (s *session) accountContext(ctx context.Context) context.Context {
	return bulut.NewContextWithAccount(ctx, s.Account)
}

// resolveSession looks the session cookie up. A cookie whose token is
// unknown, revoked or expired means logged out, and is cleared; only an
// internal error is returned.
func (h *Handler) resolveSession(w http.ResponseWriter, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	acct, auth, err := h.cfg.Authorizations.AuthenticateToken(r.Context(), c.Value)
	if code := bulut.ErrorCode(err); code == bulut.EINTERNAL {
		return nil, err
	} else if code != "" {
		h.clearSessionCookie(w)
		return nil, nil
	}
	return &session{Account: acct, Authorization: auth, Token: c.Value}, nil
}

// startSession logs acct in: it issues a session token, replacing the
// request's previous session if any, and sets the cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, acct *bulut.Account) error {
	auth, err := h.cfg.Authorizations.CreateAuthorization(r.Context(), acct.ID, sessionDescription, sessionTTL)
	if err != nil {
		return err
	}
	if err := h.endSession(r); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    auth.Token,
		Path:     "/",
		MaxAge:   int(sessionTTL / time.Second),
		HttpOnly: true,
		Secure:   h.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// endSession revokes the request's session token, if any.
func (h *Handler) endSession(r *http.Request) error {
	s := sessionFrom(r.Context())
	if s == nil {
		return nil
	}
	err := h.cfg.Authorizations.DeleteAuthorization(r.Context(), s.Account.ID, s.Authorization.ID)
	if bulut.ErrorCode(err) == bulut.ENOTFOUND {
		return nil // already revoked elsewhere
	}
	return err
}

func (h *Handler) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secureCookies(), SameSite: http.SameSiteLaxMode})
}

func (h *Handler) secureCookies() bool { return h.cfg.URLs.Scheme == "https" }

// safeNext returns next if it is a path on this site, "/" otherwise, so a
// login link can't send the user to another site.
func safeNext(next string) string {
	if len(next) < 1 || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	return next
}

// loginURL is the login page that returns to next afterwards.
func loginURL(next string) string {
	if next == "" || safeNext(next) == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}
