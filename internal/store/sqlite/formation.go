package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/bulut-bulut/bulut"
)

// FormationService implements bulut.FormationService.
type FormationService struct{ db *DB }

var _ bulut.FormationService = (*FormationService)(nil)

// NewFormationService returns a FormationService on db.
func NewFormationService(db *DB) *FormationService { return &FormationService{db: db} }

// addFormation adds the slug's process types that the app's formation
// lacks, at quantity 0 and size free. Existing ones are left alone.
func addFormation(ctx context.Context, tx *sql.Tx, app *bulut.App, slug *bulut.Slug, now time.Time) error {
	types := make([]string, 0, len(slug.ProcessTypes))
	for t := range slug.ProcessTypes {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		if _, err := tx.ExecContext(ctx, `INSERT INTO formations (id, app_id, type, quantity, size, created_at, updated_at)
			VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (app_id, type) DO NOTHING`,
			bulut.NewID(), app.ID, t, bulut.SizeFree, formatTime(now), formatTime(now)); err != nil {
			return err
		}
	}
	return nil
}

// FindFormation implements bulut.FormationService. Commands come from the
// current release's slug; a process type it lacks has none.
func (s *FormationService) FindFormation(ctx context.Context, appIDOrName string) ([]*bulut.Formation, error) {
	var formation []*bulut.Formation
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		commands := map[string]string{}
		if rel, err := currentRelease(ctx, tx, app); err != nil {
			return err
		} else if rel != nil && rel.SlugID != "" {
			slug, err := findSlug(ctx, tx, app, rel.SlugID)
			if err != nil {
				return err
			}
			commands = slug.ProcessTypes
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, type, quantity, size, created_at, updated_at FROM formations
			WHERE app_id = ? ORDER BY type`, app.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		formation = []*bulut.Formation{}
		for rows.Next() {
			f := &bulut.Formation{AppID: app.ID}
			var created, updated string
			if err := rows.Scan(&f.ID, &f.Type, &f.Quantity, &f.Size, &created, &updated); err != nil {
				return err
			}
			f.Command, f.CreatedAt, f.UpdatedAt = commands[f.Type], parseTime(created), parseTime(updated)
			formation = append(formation, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return formation, nil
}
