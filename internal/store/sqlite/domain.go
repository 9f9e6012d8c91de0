package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// DomainService implements bulut.DomainService.
type DomainService struct{ db *DB }

var _ bulut.DomainService = (*DomainService)(nil)

// NewDomainService returns a DomainService on db.
func NewDomainService(db *DB) *DomainService { return &DomainService{db: db} }

const domainColumns = `id, app_id, hostname, created_at, updated_at`

func scanDomain(row scanner) (*bulut.Domain, error) {
	var d bulut.Domain
	var created, updated string
	if err := row.Scan(&d.ID, &d.AppID, &d.Hostname, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = parseTime(created), parseTime(updated)
	return &d, nil
}

func domainNotFound() *bulut.Error {
	return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "domain", Message: "Couldn't find that domain."}
}

// FindDomains implements bulut.DomainService.
func (s *DomainService) FindDomains(ctx context.Context, appIDOrName string) ([]*bulut.Domain, error) {
	domains := []*bulut.Domain{}
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE app_id = ? ORDER BY created_at, id`, app.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDomain(rows)
			if err != nil {
				return err
			}
			domains = append(domains, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return domains, nil
}

// CreateDomain implements bulut.DomainService.
func (s *DomainService) CreateDomain(ctx context.Context, appIDOrName, hostname string) (*bulut.Domain, error) {
	h, err := bulut.NormalizeHostname(hostname)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	d := &bulut.Domain{ID: bulut.NewID(), Hostname: h, CreatedAt: now, UpdatedAt: now}
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		d.AppID = app.ID
		_, err = tx.ExecContext(ctx, `INSERT INTO domains (`+domainColumns+`) VALUES (?, ?, ?, ?, ?)`,
			d.ID, d.AppID, d.Hostname, formatTime(now), formatTime(now))
		if isUniqueViolation(err) {
			return &bulut.Error{Code: bulut.ECONFLICT, Resource: "domain", Message: "The domain " + h + " has already been added to an app."}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteDomain implements bulut.DomainService.
func (s *DomainService) DeleteDomain(ctx context.Context, appIDOrName, idOrHostname string) (*bulut.Domain, error) {
	key := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(idOrHostname)), ".")
	if key == "" {
		return nil, domainNotFound()
	}
	var d *bulut.Domain
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		d, err = scanDomain(tx.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains
			WHERE app_id = ? AND (id = ? OR hostname = ?)`, app.ID, key, key))
		if errors.Is(err, sql.ErrNoRows) {
			return domainNotFound()
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM domains WHERE id = ?`, d.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// FindDomain implements bulut.DomainService.
func (s *DomainService) FindDomain(ctx context.Context, hostname string) (*bulut.Domain, error) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(hostname)), ".")
	var d *bulut.Domain
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDomain(tx.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE hostname = ?`, h))
		if errors.Is(err, sql.ErrNoRows) {
			return domainNotFound()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
