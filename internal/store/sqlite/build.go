package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// BuildService implements bulut.BuildService.
type BuildService struct{ db *DB }

var _ bulut.BuildService = (*BuildService)(nil)

// NewBuildService returns a BuildService on db.
func NewBuildService(db *DB) *BuildService { return &BuildService{db: db} }

const buildColumns = `builds.id, builds.app_id, builds.status, builds.source_version, builds.buildpacks, builds.slug_id,
	builds.release_id, builds.user_id, builds.user_email, builds.created_at, builds.updated_at`

// buildRangeFields are the Range fields of an app's builds.
var buildRangeFields = map[string]rangeField{
	"created_at": {col: "builds.created_at", tie: "builds.id", bound: timeBound},
	"id":         {col: "builds.id", bound: idBound},
}

func scanBuild(row scanner, extra ...any) (*bulut.Build, error) {
	var b bulut.Build
	var buildpacks, created, updated string
	var slug, release sql.NullString
	dest := append([]any{&b.ID, &b.AppID, &b.Status, &b.SourceVersion, &buildpacks, &slug, &release, &b.UserID, &b.UserEmail,
		&created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if b.Buildpacks, err = decodeList(buildpacks); err != nil {
		return nil, err
	}
	b.SlugID, b.ReleaseID = slug.String, release.String
	b.CreatedAt, b.UpdatedAt = parseTime(created), parseTime(updated)
	return &b, nil
}

// CreateBuild implements bulut.BuildService. The build is pending, by the
// context's account (the app's owner for a system context acting for
// nobody), with no slug or release yet, whatever b says.
func (s *BuildService) CreateBuild(ctx context.Context, appIDOrName string, b *bulut.Build) error {
	id, now := bulut.NewID(), s.db.now()
	var appID, userID, email string
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		if userID, email, err = actor(ctx, tx, app); err != nil {
			return err
		}
		appID = app.ID
		_, err = tx.ExecContext(ctx, `INSERT INTO builds (id, app_id, status, source_version, buildpacks, user_id, user_email,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, app.ID, bulut.BuildPending, b.SourceVersion, encodeList(b.Buildpacks), userID, email, formatTime(now), formatTime(now))
		return err
	})
	if err != nil {
		return err
	}
	b.ID, b.AppID, b.Status, b.SlugID, b.ReleaseID = id, appID, bulut.BuildPending, "", ""
	b.UserID, b.UserEmail, b.CreatedAt, b.UpdatedAt = userID, email, now, now
	if b.Buildpacks == nil {
		b.Buildpacks = []string{}
	}
	return nil
}

// UpdateBuild implements bulut.BuildService. A system context may update
// any build; an account only the builds of its apps (ENOTFOUND
// otherwise). A slug or release must be the build's app's (EINVALID), ""
// clears it.
func (s *BuildService) UpdateBuild(ctx context.Context, id string, upd bulut.BuildUpdate) (*bulut.Build, error) {
	scope, err := accountScope(ctx)
	if err != nil {
		return nil, err
	}
	if upd.Status != nil {
		switch *upd.Status {
		case bulut.BuildPending, bulut.BuildSucceeded, bulut.BuildFailed:
		default:
			return nil, &bulut.Error{Code: bulut.EINVALID, Resource: "build",
				Message: "Build status must be pending, succeeded or failed, not " + *upd.Status + "."}
		}
	}
	var b *bulut.Build
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		if !bulut.IsID(id) {
			return bulut.NotFound("build")
		}
		var owner string
		var err error
		b, err = scanBuild(tx.QueryRowContext(ctx, `SELECT `+buildColumns+`, apps.owner_id FROM builds
			JOIN apps ON apps.id = builds.app_id WHERE builds.id = ?`, strings.ToLower(id)), &owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && scope != "" && owner != scope) {
			return bulut.NotFound("build")
		} else if err != nil {
			return err
		}
		if upd.Status != nil {
			b.Status = *upd.Status
		}
		if upd.Buildpacks != nil {
			b.Buildpacks = slices.Clone(upd.Buildpacks)
		}
		if upd.SlugID != nil {
			if b.SlugID, err = s.belongs(ctx, tx, "slugs", "slug", b.AppID, *upd.SlugID); err != nil {
				return err
			}
		}
		if upd.ReleaseID != nil {
			if b.ReleaseID, err = s.belongs(ctx, tx, "releases", "release", b.AppID, *upd.ReleaseID); err != nil {
				return err
			}
		}
		b.UpdatedAt = s.db.now()
		_, err = tx.ExecContext(ctx, `UPDATE builds SET status = ?, buildpacks = ?, slug_id = ?, release_id = ?, updated_at = ?
			WHERE id = ?`, b.Status, encodeList(b.Buildpacks), nullString(b.SlugID), nullString(b.ReleaseID),
			formatTime(b.UpdatedAt), b.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// belongs returns the ID of a row of table (slugs or releases) of app,
// lower-cased; "" for "". EINVALID if the app has no such row.
func (s *BuildService) belongs(ctx context.Context, tx *sql.Tx, table, what, appID, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	invalid := &bulut.Error{Code: bulut.EINVALID, Resource: what, Message: "Couldn't find that " + what + " in the build's app."}
	if !bulut.IsID(id) {
		return "", invalid
	}
	id = strings.ToLower(id)
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = ? AND app_id = ?)`, id, appID).
		Scan(&ok); err != nil {
		return "", err
	} else if !ok {
		return "", invalid
	}
	return id, nil
}

// FindBuilds implements bulut.BuildService.
func (s *BuildService) FindBuilds(ctx context.Context, appIDOrName string, r bulut.ListRange) ([]*bulut.Build, bool, error) {
	return findAppPage(ctx, s.db, appIDOrName, r,
		appList{what: "Builds", fields: buildRangeFields, defaultField: "created_at", table: "builds", columns: buildColumns},
		func(rows *sql.Rows, _ *bulut.App) (*bulut.Build, error) { return scanBuild(rows) })
}

// FindBuild implements bulut.BuildService.
func (s *BuildService) FindBuild(ctx context.Context, appIDOrName, id string) (*bulut.Build, error) {
	var b *bulut.Build
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		if !bulut.IsID(id) {
			return bulut.NotFound("build")
		}
		b, err = scanBuild(tx.QueryRowContext(ctx, `SELECT `+buildColumns+` FROM builds WHERE builds.id = ? AND builds.app_id = ?`,
			strings.ToLower(id), app.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return bulut.NotFound("build")
		}
		return err
	})
	return b, err
}
