package bulut

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Account is a user of the platform. Its password is never held here: the
// store keeps only a hash of it.
type Account struct {
	ID        string
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
	LastLogin *time.Time
}

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 8

// NormalizeEmail returns the form e-mail addresses are stored and compared in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ValidateSignup checks an e-mail address and password for a new account and
// returns the normalised address.
func ValidateSignup(email, password string) (string, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return "", Errorf(EINVALID, "Email is required.")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email, "@") {
		return "", Errorf(EINVALID, "%q is not a valid e-mail address.", email)
	}
	if len(password) < MinPasswordLength {
		return "", Errorf(EINVALID, "Password must be at least %d characters long.", MinPasswordLength)
	}
	if len(password) > 72 {
		return "", Errorf(EINVALID, "Password must be at most 72 bytes long.")
	}
	return email, nil
}

// AccountService manages accounts and their credentials.
type AccountService interface {
	// CreateAccount signs up a new account. EINVALID for a bad e-mail or
	// password, ECONFLICT when the e-mail is already registered.
	CreateAccount(ctx context.Context, email, password string) (*Account, error)

	// Authenticate checks an e-mail and password and records the login.
	// EUNAUTHORIZED when they don't match an account.
	Authenticate(ctx context.Context, email, password string) (*Account, error)

	// FindAccountByID returns an account. ENOTFOUND if there is none.
	FindAccountByID(ctx context.Context, id string) (*Account, error)
}
