package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// AppService implements bulut.AppService.
type AppService struct{ db *DB }

var _ bulut.AppService = (*AppService)(nil)

// NewAppService returns an AppService on db.
func NewAppService(db *DB) *AppService { return &AppService{db: db} }

const appColumns = `apps.id, apps.name, apps.owner_id, accounts.email, apps.region, apps.stack, apps.maintenance,
	apps.created_at, apps.updated_at, apps.released_at`

const appFrom = ` FROM apps JOIN accounts ON accounts.id = apps.owner_id`

// appRangeColumns maps the Range fields of GET /apps to columns.
var appRangeColumns = map[string]string{"id": "apps.id", "name": "apps.name", "updated_at": "apps.updated_at"}

func scanApp(row interface{ Scan(...any) error }) (*bulut.App, error) {
	var a bulut.App
	var created, updated string
	var released sql.NullString
	if err := row.Scan(&a.ID, &a.Name, &a.OwnerID, &a.OwnerEmail, &a.Region, &a.Stack, &a.Maintenance,
		&created, &updated, &released); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt, a.ReleasedAt = parseTime(created), parseTime(updated), parseTimePtr(released)
	return &a, nil
}

// findApp looks an app up by ID or name within the context's account.
func (s *AppService) findApp(ctx context.Context, q queryer, idOrName string) (*bulut.App, error) {
	owner, err := accountScope(ctx)
	if err != nil {
		return nil, err
	}
	col := "apps.name"
	if bulut.IsID(idOrName) {
		col, idOrName = "apps.id", strings.ToLower(idOrName)
	}
	query := `SELECT ` + appColumns + appFrom + ` WHERE ` + col + ` = ?`
	args := []any{idOrName}
	if owner != "" {
		query += ` AND apps.owner_id = ?`
		args = append(args, owner)
	}
	a, err := scanApp(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulut.NotFound("app")
	}
	return a, err
}

// lookupApp is findApp for the other services: an app by ID or name within
// the context's account, read through q (a transaction).
func lookupApp(ctx context.Context, db *DB, q queryer, idOrName string) (*bulut.App, error) {
	return (&AppService{db: db}).findApp(ctx, q, idOrName)
}

// actor returns who a change to app is made by: the context's account, or
// the app's owner for a system context acting for nobody.
func actor(ctx context.Context, q queryer, app *bulut.App) (id, email string, err error) {
	acct := bulut.AccountFromContext(ctx)
	if acct == nil || acct.ID == "" {
		return app.OwnerID, app.OwnerEmail, nil
	}
	err = q.QueryRowContext(ctx, `SELECT email FROM accounts WHERE id = ?`, acct.ID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
	}
	return acct.ID, email, err
}

// touchApp records a change to an app: updated_at, and released_at when
// the change released a slug.
func touchApp(ctx context.Context, tx *sql.Tx, app *bulut.App, now time.Time, released bool) error {
	app.UpdatedAt = now
	if released {
		app.ReleasedAt = &now
	}
	_, err := tx.ExecContext(ctx, `UPDATE apps SET updated_at = ?, released_at = ? WHERE id = ?`,
		formatTime(now), formatTimePtr(app.ReleasedAt), app.ID)
	return err
}

// FindApp implements bulut.AppService.
func (s *AppService) FindApp(ctx context.Context, idOrName string) (*bulut.App, error) {
	return s.findApp(ctx, s.db.read, idOrName)
}

// FindApps implements bulut.AppService.
func (s *AppService) FindApps(ctx context.Context, f bulut.AppFilter) ([]*bulut.App, bool, error) {
	owner, err := accountScope(ctx)
	if err != nil {
		return nil, false, err
	}
	r := f.Range
	if r.Field == "" {
		r.Field = "id"
	}
	if r.Max <= 0 {
		r.Max = bulut.DefaultPageSize
	}
	col, ok := appRangeColumns[r.Field]
	if !ok {
		return nil, false, bulut.Errorf(bulut.ERANGE, "Apps can't be ranged by %s.", r.Field)
	}
	var where []string
	var args []any
	if owner != "" {
		where, args = append(where, "apps.owner_id = ?"), append(args, owner)
	}
	if f.IDOrName != nil {
		where, args = append(where, "(apps.id = ? OR apps.name = ?)"), append(args, strings.ToLower(*f.IDOrName), *f.IDOrName)
	}
	// First and Last are in iteration order: with order=desc, First is the
	// upper bound.
	lo, hi, order := ">", "<", "ASC"
	if r.Desc {
		lo, hi, order = "<", ">", "DESC"
	}
	if r.First != "" {
		op := lo + "="
		if r.FirstExclusive {
			op = lo
		}
		where, args = append(where, col+" "+op+" ?"), append(args, r.First)
	}
	if r.Last != "" {
		where, args = append(where, col+" "+hi+"= ?"), append(args, r.Last)
	}
	query := `SELECT ` + appColumns + appFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY ` + col + ` ` + order
	if col == "apps.updated_at" { // the only field that isn't unique
		query += `, apps.id ` + order
	}
	query += ` LIMIT ?`
	args = append(args, r.Max+1)
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	apps := make([]*bulut.App, 0, min(r.Max, 64))
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, false, err
		}
		apps = append(apps, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(apps) > r.Max
	if more {
		apps = apps[:r.Max]
	}
	return apps, more, nil
}

// CreateApp implements bulut.AppService.
func (s *AppService) CreateApp(ctx context.Context, name string) (*bulut.App, error) {
	owner := bulut.AccountIDFromContext(ctx)
	if owner == "" {
		return nil, bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
	}
	generated := name == ""
	if generated {
		name = bulut.GenerateAppName()
	} else if err := bulut.ValidateAppName(name); err != nil {
		return nil, err
	}
	now := s.db.now()
	a := &bulut.App{ID: bulut.NewID(), Name: name, OwnerID: owner, Region: bulut.DefaultRegion,
		Stack: bulut.DefaultStack, CreatedAt: now, UpdatedAt: now}
	for attempt := 0; ; attempt++ {
		err := s.db.update(ctx, func(tx *sql.Tx) error {
			if err := tx.QueryRowContext(ctx, `SELECT email FROM accounts WHERE id = ?`, owner).Scan(&a.OwnerEmail); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO apps (id, name, owner_id, region, stack, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				a.ID, a.Name, a.OwnerID, a.Region, a.Stack, formatTime(now), formatTime(now))
			if err != nil {
				return err
			}
			_, err = insertRelease(ctx, tx, a, newRelease{Description: "Initial release", UserID: owner, UserEmail: a.OwnerEmail}, now)
			return err
		})
		if isUniqueViolation(err) {
			if generated && attempt < 5 {
				a.Name = bulut.GenerateAppName()
				continue
			}
			return nil, bulut.ErrAppNameTaken(a.Name)
		}
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// UpdateApp implements bulut.AppService.
func (s *AppService) UpdateApp(ctx context.Context, idOrName string, upd bulut.AppUpdate) (*bulut.App, error) {
	if upd.Name != nil {
		if err := bulut.ValidateAppName(*upd.Name); err != nil {
			return nil, err
		}
	}
	var app *bulut.App
	err := s.db.update(ctx, func(tx *sql.Tx) (err error) {
		if app, err = s.findApp(ctx, tx, idOrName); err != nil {
			return err
		}
		if upd.Name != nil {
			app.Name = *upd.Name
		}
		if upd.Maintenance != nil {
			app.Maintenance = *upd.Maintenance
		}
		app.UpdatedAt = s.db.now()
		_, err = tx.ExecContext(ctx, `UPDATE apps SET name = ?, maintenance = ?, updated_at = ? WHERE id = ?`,
			app.Name, app.Maintenance, formatTime(app.UpdatedAt), app.ID)
		return err
	})
	if isUniqueViolation(err) {
		return nil, bulut.ErrAppNameTaken(*upd.Name)
	}
	return app, err
}

// DeleteApp implements bulut.AppService.
func (s *AppService) DeleteApp(ctx context.Context, idOrName string) (*bulut.App, error) {
	var app *bulut.App
	err := s.db.update(ctx, func(tx *sql.Tx) (err error) {
		if app, err = s.findApp(ctx, tx, idOrName); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM apps WHERE id = ?`, app.ID)
		return err
	})
	return app, err
}
