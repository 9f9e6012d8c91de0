package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Info describes a bulut server: where its parts answer.
type Info struct {
	Domain       string `json:"domain"`
	APIURL       string `json:"api_url"`
	GitHost      string `json:"git_host"`
	GitURLPrefix string `json:"git_url_prefix"` // an app's git URL is this + NAME + ".git"
	DashboardURL string `json:"dashboard_url"`
}

// Account is the account a token belongs to.
type Account struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	LastLogin *time.Time `json:"last_login"`
}

// User names an account inside another resource.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// AccessToken is the secret of an authorization.
type AccessToken struct {
	ID        string `json:"id"`
	Token     string `json:"token"`
	ExpiresIn *int   `json:"expires_in"` // seconds; nil: never expires
}

// Authorization is an API token granted to an account.
type Authorization struct {
	ID          string      `json:"id"`
	Description string      `json:"description"`
	AccessToken AccessToken `json:"access_token"`
	User        User        `json:"user"`
	CreatedAt   time.Time   `json:"created_at"`
}

// LoginSession is a pending browser login: the user approves it at
// BrowserURL while the CLI polls CLIURL with Token.
type LoginSession struct {
	ID         string `json:"id"`
	BrowserURL string `json:"browser_url"`
	CLIURL     string `json:"cli_url"` // path relative to the API's base URL
	Token      string `json:"token"`   // secret that authenticates the polls
}

// LoginGrant is what an approved login session turns into.
type LoginGrant struct {
	AccessToken string `json:"access_token"`
	User        User   `json:"user"`
}

// Info describes the server. It needs no token.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	return callFor[Info](ctx, c, http.MethodGet, "/bulut/info", nil, withoutAuth())
}

// Signup creates an account. It needs no token.
func (c *Client) Signup(ctx context.Context, email, password string) (*Account, error) {
	in := map[string]string{"email": email, "password": password}
	return callFor[Account](ctx, c, http.MethodPost, "/account", in, withoutAuth())
}

// Account returns the account of the client's token.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	return callFor[Account](ctx, c, http.MethodGet, "/account", nil)
}

// CreateAuthorization logs in with an e-mail and password and returns a
// new API token for the account.
func (c *Client) CreateAuthorization(ctx context.Context, email, password, description string) (*Authorization, error) {
	in := map[string]any{"description": description, "scope": []string{"global"}}
	return callFor[Authorization](ctx, c, http.MethodPost, "/oauth/authorizations", in, withBasicAuth(email, password))
}

// Logout revokes the client's token.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodDelete, "/oauth/sessions/~", nil, nil)
	return err
}

// CreateLoginSession starts a browser login. It needs no token.
func (c *Client) CreateLoginSession(ctx context.Context, description string) (*LoginSession, error) {
	in := map[string]string{"description": description}
	return callFor[LoginSession](ctx, c, http.MethodPost, "/auth/cli", in, withoutAuth())
}

// Timing of PollLoginSession.
var (
	// minPollInterval spaces polls when the server answers at once
	// instead of holding the request.
	minPollInterval = time.Second
	// maxPollFailures is how many server or network errors in a row
	// end the polling.
	maxPollFailures = 3
)

// PollLoginSession waits until the user approves session and returns the
// grant. It polls while the server says the login is pending and returns
// the server's error once it is expired or unknown, or ctx's error once
// ctx is done.
func (c *Client) PollLoginSession(ctx context.Context, session *LoginSession) (*LoginGrant, error) {
	failures := 0
	for {
		started := time.Now()
		grant, err := c.pollLoginSessionOnce(ctx, session)
		switch {
		case err == nil && grant != nil:
			return grant, nil
		case err == nil || bulut.ErrorCode(err) == bulut.EPENDING:
			failures = 0
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case isRetryable(err) && failures+1 < maxPollFailures:
			failures++
		default:
			return nil, err
		}
		if err := sleep(ctx, minPollInterval-time.Since(started)); err != nil {
			return nil, err
		}
	}
}

// pollLoginSessionOnce asks once; a nil grant and nil error mean pending.
func (c *Client) pollLoginSessionOnce(ctx context.Context, session *LoginSession) (*LoginGrant, error) {
	var grant LoginGrant
	resp, err := c.call(ctx, http.MethodGet, session.CLIURL, nil, &grant, withBearer(session.Token))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusAccepted || grant.AccessToken == "" {
		return nil, nil
	}
	return &grant, nil
}

// isRetryable reports whether err may go away on its own: the server was
// unreachable or failed internally.
func isRetryable(err error) bool {
	var netErr *NetworkError
	return errors.As(err, &netErr) || bulut.ErrorCode(err) == bulut.EINTERNAL
}

// sleep waits d (nothing if d <= 0) or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
