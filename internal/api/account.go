package api

import (
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// info tells clients where the platform's parts live (a bulut extension:
// the CLI needs the git host for ~/.netrc and to recognise git remotes).
func (h *Handler) info(w http.ResponseWriter, r *http.Request) error {
	u := h.cfg.URLs
	writeJSON(w, r, http.StatusOK, map[string]any{
		"domain":         u.Domain,
		"api_url":        u.APIURL(),
		"git_host":       u.GitHost(),
		"git_url_prefix": u.GitURL("")[:len(u.GitURL(""))-len(".git")],
		"dashboard_url":  u.DashboardURL(),
		"signup_open":    h.cfg.SignupOpen,
		"version":        bulut.Version,
	})
	return nil
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// accountJSON is Heroku's Account shape.
type accountJSON struct {
	AllowTracking           bool       `json:"allow_tracking"`
	Beta                    bool       `json:"beta"`
	CountryOfResidence      *string    `json:"country_of_residence"`
	CreatedAt               time.Time  `json:"created_at"`
	DefaultOrganization     *idName    `json:"default_organization"`
	DefaultTeam             *idName    `json:"default_team"`
	DelinquentAt            *time.Time `json:"delinquent_at"`
	Email                   string     `json:"email"`
	Federated               bool       `json:"federated"`
	ID                      string     `json:"id"`
	IdentityProvider        *idName    `json:"identity_provider"`
	LastLogin               *time.Time `json:"last_login"`
	Name                    *string    `json:"name"`
	SMSNumber               *string    `json:"sms_number"`
	SuspendedAt             *time.Time `json:"suspended_at"`
	TwoFactorAuthentication bool       `json:"two_factor_authentication"`
	UpdatedAt               time.Time  `json:"updated_at"`
	Verified                bool       `json:"verified"`
}

func newAccountJSON(a *bulut.Account) accountJSON {
	return accountJSON{AllowTracking: false, CreatedAt: jsonTime(a.CreatedAt), Email: a.Email, ID: a.ID,
		LastLogin: jsonTimePtr(a.LastLogin), UpdatedAt: jsonTime(a.UpdatedAt), Verified: true}
}

// jsonTime drops sub-second digits, as Heroku's API does.
func jsonTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func jsonTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := jsonTime(*t)
	return &v
}

func (h *Handler) signup(w http.ResponseWriter, r *http.Request) error {
	if !h.cfg.SignupOpen {
		return bulut.Errorf(bulut.ESIGNUPCLOSED, "Sign-up is closed on this server. Ask its administrator for an account (`bulut server admin:create-user`).")
	}
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	acct, err := h.cfg.Accounts.CreateAccount(r.Context(), body.Email, body.Password)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, newAccountJSON(acct))
	return nil
}

func (h *Handler) accountInfo(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, r, http.StatusOK, newAccountJSON(bulut.AccountFromContext(r.Context())))
	return nil
}

type tokenJSON struct {
	ExpiresIn *int   `json:"expires_in"`
	ID        string `json:"id"`
	Token     string `json:"token"`
}

// authorizationJSON is Heroku's OAuthAuthorization shape.
type authorizationJSON struct {
	AccessToken  *tokenJSON `json:"access_token"`
	Client       *idName    `json:"client"`
	CreatedAt    time.Time  `json:"created_at"`
	Description  string     `json:"description"`
	Grant        *idName    `json:"grant"`
	ID           string     `json:"id"`
	RefreshToken *tokenJSON `json:"refresh_token"`
	Scope        []string   `json:"scope"`
	UpdatedAt    time.Time  `json:"updated_at"`
	User         struct {
		Email    string  `json:"email"`
		FullName *string `json:"full_name"`
		ID       string  `json:"id"`
	} `json:"user"`
}

func newAuthorizationJSON(a *bulut.Authorization, acct *bulut.Account, now time.Time) authorizationJSON {
	j := authorizationJSON{CreatedAt: jsonTime(a.CreatedAt), Description: a.Description, ID: a.ID,
		Scope: []string{"global"}, UpdatedAt: jsonTime(a.UpdatedAt)}
	j.User.Email, j.User.ID = acct.Email, acct.ID
	if a.Token != "" {
		j.AccessToken = &tokenJSON{ID: a.ID, Token: a.Token}
		if a.ExpiresAt != nil {
			secs := int(a.ExpiresAt.Sub(now).Seconds())
			j.AccessToken.ExpiresIn = &secs
		}
	}
	return j
}

// createAuthorization issues a token: with Basic e-mail:password (as `heroku
// login -i` does) or with an existing token.
func (h *Handler) createAuthorization(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Description string   `json:"description"`
		ExpiresIn   *int     `json:"expires_in"`
		Scope       []string `json:"scope"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	var acct *bulut.Account
	if email, pass, ok := r.BasicAuth(); ok && email != "" && len(pass) <= 72 {
		a, err := h.cfg.Accounts.Authenticate(r.Context(), email, pass)
		if err == nil {
			acct = a
		}
	}
	if acct == nil {
		ctx, err := h.authenticate(r)
		if err != nil {
			return bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
		}
		acct = bulut.AccountFromContext(ctx)
	}
	var expiresIn time.Duration
	if body.ExpiresIn != nil {
		if *body.ExpiresIn < 0 {
			return bulut.Errorf(bulut.EINVALID, "expires_in must be a positive number of seconds.")
		}
		expiresIn = time.Duration(*body.ExpiresIn) * time.Second
	}
	if body.Description == "" {
		body.Description = "API token"
	}
	a, err := h.cfg.Authorizations.CreateAuthorization(r.Context(), acct.ID, body.Description, expiresIn)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, newAuthorizationJSON(a, acct, h.cfg.Now()))
	return nil
}

// deleteSession revokes the token of the request itself (logout); "~" is
// the only session ID there is.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("id") != "~" {
		return bulut.NotFound("session")
	}
	return h.revoke(w, r, currentAuthorization(r.Context()).ID)
}

func (h *Handler) deleteAuthorization(w http.ResponseWriter, r *http.Request) error {
	return h.revoke(w, r, r.PathValue("id"))
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, id string) error {
	acct := bulut.AccountFromContext(r.Context())
	if err := h.cfg.Authorizations.DeleteAuthorization(r.Context(), acct.ID, id); err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, map[string]string{"id": id})
	return nil
}

// createLoginSession starts `bulut login`'s browser flow.
func (h *Handler) createLoginSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Description string `json:"description"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Description == "" {
		body.Description = "bulut CLI login"
	}
	if len(body.Description) > 200 {
		return bulut.Errorf(bulut.EINVALID, "description must be at most 200 characters.")
	}
	ls, err := h.cfg.LoginSessions.CreateLoginSession(r.Context(), body.Description)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusCreated, map[string]string{
		"id":          ls.ID,
		"browser_url": h.cfg.URLs.DashboardURL() + "cli-login/" + ls.ID,
		"cli_url":     "/auth/cli/" + ls.ID,
		"token":       ls.Secret,
	})
	return nil
}

// pollLoginSession is the CLI's long poll: it answers as soon as the login
// is approved, or "pending" after LoginPollWait.
func (h *Handler) pollLoginSession(w http.ResponseWriter, r *http.Request) error {
	id, secret := r.PathValue("id"), bearerToken(r)
	if secret == "" {
		return bulut.Errorf(bulut.EUNAUTHORIZED, "Send the login token as `Authorization: Bearer TOKEN`.")
	}
	ctx := r.Context()
	deadline := time.NewTimer(h.cfg.LoginPollWait)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		a, err := h.cfg.LoginSessions.RedeemLoginSession(ctx, id, secret)
		if err == nil {
			acct, err := h.cfg.Accounts.FindAccountByID(ctx, a.AccountID)
			if err != nil {
				return err
			}
			writeJSON(w, r, http.StatusOK, map[string]any{
				"access_token": a.Token,
				"user":         map[string]string{"id": acct.ID, "email": acct.Email},
			})
			return nil
		} else if bulut.ErrorCode(err) != bulut.EPENDING {
			return err
		}
		// Pending: wait for approval with cheap reads, then redeem.
		for approved := false; !approved; {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-deadline.C:
				return err
			case <-tick.C:
			}
			ls, ferr := h.cfg.LoginSessions.FindLoginSession(ctx, id)
			if ferr != nil {
				return ferr
			}
			approved = ls.AccountID != ""
		}
	}
}
