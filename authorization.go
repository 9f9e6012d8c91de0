package bulut

import (
	"context"
	"time"
)

// Authorization is an API token granted to an account (Heroku's OAuth
// authorization). Token holds the secret only in the value returned when the
// authorization is created; the store keeps a hash.
type Authorization struct {
	ID          string
	AccountID   string
	Description string
	Token       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ExpiresAt   *time.Time
}

// AuthorizationService issues and checks API tokens.
type AuthorizationService interface {
	// CreateAuthorization issues a token for an account. expiresIn 0 means
	// it never expires. The returned value is the only place the token
	// appears in clear.
	CreateAuthorization(ctx context.Context, accountID, description string, expiresIn time.Duration) (*Authorization, error)

	// Authenticate resolves a token to its account and authorization.
	// EUNAUTHORIZED for an unknown, revoked or expired token.
	AuthenticateToken(ctx context.Context, token string) (*Account, *Authorization, error)

	// DeleteAuthorization revokes a token. ENOTFOUND if the account has no
	// such authorization.
	DeleteAuthorization(ctx context.Context, accountID, id string) error
}

// LoginSession is a pending browser login started by the CLI: the CLI holds
// Secret and polls; a logged-in user approves it in the dashboard, after
// which one poll turns it into an Authorization and the session is gone.
type LoginSession struct {
	ID          string
	Secret      string // in clear only when the session is created
	Description string
	AccountID   string // set once approved
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// LoginSessionTTL is how long a browser login may wait for approval.
const LoginSessionTTL = 10 * time.Minute

// LoginSessionService backs `bulut login`'s browser flow.
type LoginSessionService interface {
	// CreateLoginSession starts a login; its Secret is returned once.
	CreateLoginSession(ctx context.Context, description string) (*LoginSession, error)

	// FindLoginSession returns a pending session for the approval page.
	// ENOTFOUND if it doesn't exist, EEXPIRED if it is too old.
	FindLoginSession(ctx context.Context, id string) (*LoginSession, error)

	// ApproveLoginSession records that accountID approved the session.
	ApproveLoginSession(ctx context.Context, id, accountID string) error

	// RedeemLoginSession is the CLI's poll: with the right secret and an
	// approved session it returns a new authorization and deletes the
	// session; EPENDING while not yet approved; EUNAUTHORIZED for a wrong
	// secret; EEXPIRED after LoginSessionTTL.
	RedeemLoginSession(ctx context.Context, id, secret string) (*Authorization, error)
}
