package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/secret"
)

// AuthorizationService implements bulut.AuthorizationService and
// bulut.LoginSessionService.
type AuthorizationService struct{ db *DB }

var (
	_ bulut.AuthorizationService = (*AuthorizationService)(nil)
	_ bulut.LoginSessionService  = (*AuthorizationService)(nil)
)

// NewAuthorizationService returns an AuthorizationService on db.
func NewAuthorizationService(db *DB) *AuthorizationService { return &AuthorizationService{db: db} }

// CreateAuthorization implements bulut.AuthorizationService.
func (s *AuthorizationService) CreateAuthorization(ctx context.Context, accountID, description string, expiresIn time.Duration) (*bulut.Authorization, error) {
	var a *bulut.Authorization
	err := s.db.update(ctx, func(tx *sql.Tx) (err error) {
		a, err = s.createAuthorization(ctx, tx, accountID, description, expiresIn)
		return err
	})
	return a, err
}

func (s *AuthorizationService) createAuthorization(ctx context.Context, tx *sql.Tx, accountID, description string, expiresIn time.Duration) (*bulut.Authorization, error) {
	if expiresIn < 0 {
		return nil, bulut.Errorf(bulut.EINVALID, "expires_in must not be negative.")
	}
	now := s.db.now()
	a := &bulut.Authorization{ID: bulut.NewID(), AccountID: accountID, Description: description,
		Token: secret.NewToken(), CreatedAt: now, UpdatedAt: now}
	if expiresIn > 0 {
		t := now.Add(expiresIn)
		a.ExpiresAt = &t
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO authorizations (id, account_id, token_hash, description, created_at, updated_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, accountID, secret.HashToken(a.Token), description, formatTime(now), formatTime(now), formatTimePtr(a.ExpiresAt))
	return a, err
}

// AuthenticateToken implements bulut.AuthorizationService.
func (s *AuthorizationService) AuthenticateToken(ctx context.Context, token string) (*bulut.Account, *bulut.Authorization, error) {
	var z bulut.Authorization
	var created, updated string
	var expires sql.NullString
	err := s.db.read.QueryRowContext(ctx, `SELECT id, account_id, description, created_at, updated_at, expires_at
		FROM authorizations WHERE token_hash = ?`, secret.HashToken(token)).
		Scan(&z.ID, &z.AccountID, &z.Description, &created, &updated, &expires)
	invalid := bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, invalid
	} else if err != nil {
		return nil, nil, err
	}
	z.CreatedAt, z.UpdatedAt, z.ExpiresAt = parseTime(created), parseTime(updated), parseTimePtr(expires)
	if z.ExpiresAt != nil && !s.db.now().Before(*z.ExpiresAt) {
		return nil, nil, invalid
	}
	acct, err := NewAccountService(s.db).FindAccountByID(ctx, z.AccountID)
	if err != nil {
		return nil, nil, err
	}
	return acct, &z, nil
}

// DeleteAuthorization implements bulut.AuthorizationService.
func (s *AuthorizationService) DeleteAuthorization(ctx context.Context, accountID, id string) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM authorizations WHERE id = ? AND account_id = ?`, id, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulut.NotFound("authorization")
		}
		return nil
	})
}

// CreateLoginSession implements bulut.LoginSessionService.
func (s *AuthorizationService) CreateLoginSession(ctx context.Context, description string) (*bulut.LoginSession, error) {
	now := s.db.now()
	ls := &bulut.LoginSession{ID: bulut.NewID(), Secret: secret.NewToken(), Description: description,
		CreatedAt: now, ExpiresAt: now.Add(bulut.LoginSessionTTL)}
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		// Sweep sessions nobody finished, so the table stays small.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE expires_at < ?`, formatTime(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO login_sessions (id, secret_hash, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			ls.ID, secret.HashToken(ls.Secret), description, formatTime(now), formatTime(ls.ExpiresAt))
		return err
	})
	return ls, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *AuthorizationService) findLoginSession(ctx context.Context, q queryer, id string) (*bulut.LoginSession, string, error) {
	var ls bulut.LoginSession
	var secretHash, created, expires string
	var account sql.NullString
	err := q.QueryRowContext(ctx, `SELECT id, secret_hash, description, account_id, created_at, expires_at FROM login_sessions WHERE id = ?`, id).
		Scan(&ls.ID, &secretHash, &ls.Description, &account, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", &bulut.Error{Code: bulut.ENOTFOUND, Resource: "login", Message: "This login request does not exist or was already used. Run `bulut login` again."}
	} else if err != nil {
		return nil, "", err
	}
	ls.AccountID, ls.CreatedAt, ls.ExpiresAt = account.String, parseTime(created), parseTime(expires)
	if !s.db.now().Before(ls.ExpiresAt) {
		return nil, "", &bulut.Error{Code: bulut.EEXPIRED, Resource: "login", Message: "This login request has expired. Run `bulut login` again."}
	}
	return &ls, secretHash, nil
}

// FindLoginSession implements bulut.LoginSessionService.
func (s *AuthorizationService) FindLoginSession(ctx context.Context, id string) (*bulut.LoginSession, error) {
	ls, _, err := s.findLoginSession(ctx, s.db.read, id)
	return ls, err
}

// ApproveLoginSession implements bulut.LoginSessionService.
func (s *AuthorizationService) ApproveLoginSession(ctx context.Context, id, accountID string) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		ls, _, err := s.findLoginSession(ctx, tx, id)
		if err != nil {
			return err
		}
		if ls.AccountID != "" && ls.AccountID != accountID {
			return &bulut.Error{Code: bulut.ECONFLICT, Resource: "login", Message: "This login request was already approved by another account."}
		}
		_, err = tx.ExecContext(ctx, `UPDATE login_sessions SET account_id = ? WHERE id = ?`, accountID, id)
		return err
	})
}

// RedeemLoginSession implements bulut.LoginSessionService.
func (s *AuthorizationService) RedeemLoginSession(ctx context.Context, id, sessionSecret string) (*bulut.Authorization, error) {
	var a *bulut.Authorization
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		ls, secretHash, err := s.findLoginSession(ctx, tx, id)
		if err != nil {
			return err
		}
		if secret.HashToken(sessionSecret) != secretHash {
			return bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
		}
		if ls.AccountID == "" {
			return bulut.Errorf(bulut.EPENDING, "Waiting for the login to be approved in the browser.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE id = ?`, id); err != nil {
			return err
		}
		a, err = s.createAuthorization(ctx, tx, ls.AccountID, ls.Description, 0)
		return err
	})
	return a, err
}
