package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/bulut-bulut/bulut"
)

type authorizationKey struct{}

// authenticate resolves the request's token (Bearer, or Basic with the
// token as password, as older Heroku clients send) to its account.
func (h *Handler) authenticate(r *http.Request) (context.Context, error) {
	token := bearerToken(r)
	if token == "" {
		if _, pass, ok := r.BasicAuth(); ok {
			token = pass
		}
	}
	if token == "" {
		return nil, bulut.Errorf(bulut.EUNAUTHORIZED, "No credentials provided. Log in with `bulut login`, or send `Authorization: Bearer TOKEN`.")
	}
	acct, authz, err := h.cfg.Authorizations.AuthenticateToken(r.Context(), token)
	if err != nil {
		return nil, err
	}
	ctx := bulut.NewContextWithAccount(r.Context(), acct)
	return context.WithValue(ctx, authorizationKey{}, authz), nil
}

// bearerToken returns the token of an `Authorization: Bearer` header.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// currentAuthorization returns the authorization a request authenticated with.
func currentAuthorization(ctx context.Context) *bulut.Authorization {
	a, _ := ctx.Value(authorizationKey{}).(*bulut.Authorization)
	return a
}
