package dashboard

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/bulut-bulut/bulut/internal/secret"
)

// Two defences against cross-site request forgery. Forms of a logged-in
// page carry a token derived from the session token, which another site
// can't read; and any post whose Origin names another host is refused, which
// also covers the login and signup forms that have no session yet.

// csrfToken is the hidden "csrf" field of the session's forms.
func (s *session) csrfToken() string { return secret.HashToken("csrf:" + s.Token) }

// checkCSRF reports whether a posted csrf field belongs to the session.
func (s *session) checkCSRF(posted string) bool {
	return posted != "" && subtle.ConstantTimeCompare([]byte(posted), []byte(s.csrfToken())) == 1
}

// sameOrigin reports whether a request's Origin header, when present, names
// the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}
