package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// BuildpackService implements bulut.BuildpackService.
type BuildpackService struct{ db *DB }

var _ bulut.BuildpackService = (*BuildpackService)(nil)

// NewBuildpackService returns a BuildpackService on db.
func NewBuildpackService(db *DB) *BuildpackService { return &BuildpackService{db: db} }

// FindBuildpacks implements bulut.BuildpackService.
func (s *BuildpackService) FindBuildpacks(ctx context.Context, appIDOrName string) ([]string, error) {
	var buildpacks []string
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT url FROM buildpack_installations WHERE app_id = ? ORDER BY ordinal`, app.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		buildpacks = []string{}
		for rows.Next() {
			var url string
			if err := rows.Scan(&url); err != nil {
				return err
			}
			buildpacks = append(buildpacks, url)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return buildpacks, nil
}

// SetBuildpacks implements bulut.BuildpackService. Entries are kept
// without surrounding white space; an entry that is nothing else is
// EINVALID.
func (s *BuildpackService) SetBuildpacks(ctx context.Context, appIDOrName string, buildpacks []string) error {
	clean := make([]string, len(buildpacks))
	for i, bp := range buildpacks {
		if clean[i] = strings.TrimSpace(bp); clean[i] == "" {
			return &bulut.Error{Code: bulut.EINVALID, Resource: "buildpack", Message: "Buildpacks must not be empty."}
		}
	}
	return s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM buildpack_installations WHERE app_id = ?`, app.ID); err != nil {
			return err
		}
		for i, bp := range clean {
			if _, err := tx.ExecContext(ctx, `INSERT INTO buildpack_installations (app_id, ordinal, url) VALUES (?, ?, ?)`,
				app.ID, i, bp); err != nil {
				return err
			}
		}
		return nil
	})
}
