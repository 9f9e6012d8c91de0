package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/secret"
)

// AccountService implements bulut.AccountService.
type AccountService struct{ db *DB }

var _ bulut.AccountService = (*AccountService)(nil)

// NewAccountService returns an AccountService on db.
func NewAccountService(db *DB) *AccountService { return &AccountService{db: db} }

const accountColumns = `id, email, created_at, updated_at, last_login`

func scanAccount(row interface{ Scan(...any) error }) (*bulut.Account, error) {
	var a bulut.Account
	var created, updated string
	var last sql.NullString
	if err := row.Scan(&a.ID, &a.Email, &created, &updated, &last); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt, a.LastLogin = parseTime(created), parseTime(updated), parseTimePtr(last)
	return &a, nil
}

// CreateAccount implements bulut.AccountService.
func (s *AccountService) CreateAccount(ctx context.Context, email, password string) (*bulut.Account, error) {
	email, err := bulut.ValidateSignup(email, password)
	if err != nil {
		return nil, err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	a := &bulut.Account{ID: bulut.NewID(), Email: email, CreatedAt: now, UpdatedAt: now}
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Email, hash, formatTime(now), formatTime(now))
		return err
	})
	if isUniqueViolation(err) {
		return nil, &bulut.Error{Code: bulut.ECONFLICT, Resource: "account", Message: "An account with the e-mail " + email + " already exists."}
	}
	return a, err
}

// Authenticate implements bulut.AccountService.
func (s *AccountService) Authenticate(ctx context.Context, email, password string) (*bulut.Account, error) {
	invalid := bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
	var hash, id string
	err := s.db.read.QueryRowContext(ctx, `SELECT id, password_hash FROM accounts WHERE email = ?`, bulut.NormalizeEmail(email)).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		secret.BurnPasswordCheck(password)
		return nil, invalid
	} else if err != nil {
		return nil, err
	}
	if !secret.CheckPassword(hash, password) {
		return nil, invalid
	}
	now := s.db.now()
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET last_login = ? WHERE id = ?`, formatTime(now), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindAccountByID(ctx, id)
}

// FindAccountByID implements bulut.AccountService.
func (s *AccountService) FindAccountByID(ctx context.Context, id string) (*bulut.Account, error) {
	a, err := scanAccount(s.db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulut.NotFound("account")
	}
	return a, err
}
