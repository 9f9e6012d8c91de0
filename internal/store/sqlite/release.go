package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// ReleaseService implements bulut.ReleaseService.
type ReleaseService struct{ db *DB }

var _ bulut.ReleaseService = (*ReleaseService)(nil)

// NewReleaseService returns a ReleaseService on db.
func NewReleaseService(db *DB) *ReleaseService { return &ReleaseService{db: db} }

// releaseColumns ends with whether the release is its app's current one:
// the highest succeeded version.
const releaseColumns = `releases.id, releases.app_id, releases.version, releases.description, releases.slug_id,
	releases.status, releases.user_id, releases.user_email, releases.config_vars, releases.created_at, releases.updated_at,
	releases.status = 'succeeded' AND releases.version = (SELECT max(r.version) FROM releases r
		WHERE r.app_id = releases.app_id AND r.status = 'succeeded')`

// releaseRangeFields are the Range fields of an app's releases.
var releaseRangeFields = map[string]rangeField{
	"version": {col: "releases.version", bound: versionBound},
	"id":      {col: "releases.id", bound: idBound},
}

type scanner interface{ Scan(...any) error }

func scanRelease(row scanner, app *bulut.App) (*bulut.Release, error) {
	var r bulut.Release
	var slug sql.NullString
	var config, created, updated string
	if err := row.Scan(&r.ID, &r.AppID, &r.Version, &r.Description, &slug, &r.Status, &r.UserID, &r.UserEmail,
		&config, &created, &updated, &r.Current); err != nil {
		return nil, err
	}
	vars, err := decodeMap(config)
	if err != nil {
		return nil, err
	}
	r.AppName, r.SlugID, r.ConfigVars = app.Name, slug.String, vars
	r.CreatedAt, r.UpdatedAt = parseTime(created), parseTime(updated)
	return &r, nil
}

// newRelease is what a new release is made of.
type newRelease struct {
	SlugID      string
	Description string
	ConfigVars  map[string]string
	UserID      string
	UserEmail   string
}

// insertRelease adds the app's next version, succeeded and so current.
// Versions are max+1 within the write transaction: there is one writer,
// and releases are only deleted with their app, so none is reused.
func insertRelease(ctx context.Context, tx *sql.Tx, app *bulut.App, n newRelease, now time.Time) (*bulut.Release, error) {
	r := &bulut.Release{ID: bulut.NewID(), AppID: app.ID, AppName: app.Name, Description: n.Description,
		SlugID: n.SlugID, Status: bulut.ReleaseSucceeded, UserID: n.UserID, UserEmail: n.UserEmail,
		ConfigVars: n.ConfigVars, Current: true, CreatedAt: now, UpdatedAt: now}
	if r.ConfigVars == nil {
		r.ConfigVars = map[string]string{}
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM releases WHERE app_id = ?`, app.ID).
		Scan(&r.Version); err != nil {
		return nil, err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO releases (id, app_id, version, description, slug_id, status, user_id, user_email,
		config_vars, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AppID, r.Version, r.Description, nullString(r.SlugID), r.Status, r.UserID, r.UserEmail,
		encodeMap(r.ConfigVars), formatTime(now), formatTime(now))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// findRelease returns one of app's releases by ID or version ("3" or
// "v3").
func findRelease(ctx context.Context, q queryer, app *bulut.App, idOrVersion string) (*bulut.Release, error) {
	query := `SELECT ` + releaseColumns + ` FROM releases WHERE releases.app_id = ? AND `
	var arg any
	if bulut.IsID(idOrVersion) {
		query, arg = query+`releases.id = ?`, strings.ToLower(idOrVersion)
	} else if v, ok := parseVersion(idOrVersion); ok {
		query, arg = query+`releases.version = ?`, v
	} else {
		return nil, bulut.NotFound("release")
	}
	r, err := scanRelease(q.QueryRowContext(ctx, query, app.ID, arg), app)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulut.NotFound("release")
	}
	return r, err
}

// currentRelease returns the app's current release: its highest
// succeeded version. nil if it has none.
func currentRelease(ctx context.Context, q queryer, app *bulut.App) (*bulut.Release, error) {
	r, err := scanRelease(q.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM releases
		WHERE releases.app_id = ? AND releases.status = 'succeeded' ORDER BY releases.version DESC LIMIT 1`, app.ID), app)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// FindReleases implements bulut.ReleaseService.
func (s *ReleaseService) FindReleases(ctx context.Context, appIDOrName string, r bulut.ListRange) ([]*bulut.Release, bool, error) {
	return findAppPage(ctx, s.db, appIDOrName, r,
		appList{what: "Releases", fields: releaseRangeFields, defaultField: "version", table: "releases", columns: releaseColumns},
		func(rows *sql.Rows, app *bulut.App) (*bulut.Release, error) { return scanRelease(rows, app) })
}

// FindRelease implements bulut.ReleaseService.
func (s *ReleaseService) FindRelease(ctx context.Context, appIDOrName, idOrVersion string) (*bulut.Release, error) {
	var rel *bulut.Release
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		rel, err = findRelease(ctx, tx, app, idOrVersion)
		return err
	})
	return rel, err
}

// CreateRelease implements bulut.ReleaseService.
func (s *ReleaseService) CreateRelease(ctx context.Context, appIDOrName, slugID, description string) (*bulut.Release, error) {
	var rel *bulut.Release
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		slug, err := findSlug(ctx, tx, app, slugID)
		if bulut.ErrorCode(err) == bulut.ENOTFOUND {
			return &bulut.Error{Code: bulut.EINVALID, Resource: "slug", Message: "Couldn't find that slug in app " + app.Name + "."}
		} else if err != nil {
			return err
		}
		var deployed bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM releases WHERE app_id = ? AND slug_id IS NOT NULL)`, app.ID).
			Scan(&deployed); err != nil {
			return err
		}
		vars, err := loadConfigVars(ctx, tx, app.ID)
		if err != nil {
			return err
		}
		userID, email, err := actor(ctx, tx, app)
		if err != nil {
			return err
		}
		now := s.db.now()
		if rel, err = insertRelease(ctx, tx, app, newRelease{SlugID: slug.ID, Description: description, ConfigVars: vars,
			UserID: userID, UserEmail: email}, now); err != nil {
			return err
		}
		if err := addFormation(ctx, tx, app, slug, now); err != nil {
			return err
		}
		if _, web := slug.ProcessTypes["web"]; web && !deployed {
			// The first deploy starts a web dyno, as on Heroku.
			if _, err := tx.ExecContext(ctx, `UPDATE formations SET quantity = 1, updated_at = ? WHERE app_id = ? AND type = 'web'`,
				formatTime(now), app.ID); err != nil {
				return err
			}
		}
		return touchApp(ctx, tx, app, now, true)
	})
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// Rollback implements bulut.ReleaseService.
func (s *ReleaseService) Rollback(ctx context.Context, appIDOrName, idOrVersion string) (*bulut.Release, error) {
	var rel *bulut.Release
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		target, err := findRelease(ctx, tx, app, idOrVersion)
		if err != nil {
			return err
		}
		if target.SlugID == "" {
			return &bulut.Error{Code: bulut.EINVALID, Resource: "release",
				Message: "Can't roll back to v" + strconv.Itoa(target.Version) + ": it has no slug."}
		}
		slug, err := findSlug(ctx, tx, app, target.SlugID)
		if err != nil {
			return err
		}
		userID, email, err := actor(ctx, tx, app)
		if err != nil {
			return err
		}
		now := s.db.now()
		if rel, err = insertRelease(ctx, tx, app, newRelease{SlugID: target.SlugID, Description: "Rollback to v" + strconv.Itoa(target.Version),
			ConfigVars: target.ConfigVars, UserID: userID, UserEmail: email}, now); err != nil {
			return err
		}
		if err := replaceConfigVars(ctx, tx, app.ID, target.ConfigVars); err != nil {
			return err
		}
		if err := addFormation(ctx, tx, app, slug, now); err != nil {
			return err
		}
		return touchApp(ctx, tx, app, now, true)
	})
	if err != nil {
		return nil, err
	}
	return rel, nil
}
