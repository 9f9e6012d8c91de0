package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"strings"
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
		formation, err = findFormation(ctx, tx, app)
		return err
	})
	if err != nil {
		return nil, err
	}
	return formation, nil
}

// UpdateFormation implements bulut.FormationService.
func (s *FormationService) UpdateFormation(ctx context.Context, appIDOrName string, updates []bulut.FormationUpdate) ([]*bulut.Formation, error) {
	var formation []*bulut.Formation
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		current, err := findFormation(ctx, tx, app)
		if err != nil {
			return err
		}
		byType := map[string]*bulut.Formation{}
		for _, f := range current {
			byType[f.Type] = f
		}
		now := s.db.now()
		for _, u := range updates {
			f := byType[u.Type]
			if f == nil {
				return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "formation",
					Message: "Couldn't find that process type (" + u.Type + ")."}
			}
			if u.Quantity != nil {
				f.Quantity = *u.Quantity
			}
			if u.Delta != nil {
				f.Quantity += *u.Delta
			}
			if f.Quantity < 0 {
				return bulut.Errorf(bulut.EINVALID, "Quantity of %s can't be negative.", u.Type)
			}
			if u.Size != nil {
				size := strings.ToLower(*u.Size)
				if _, ok := bulut.Sizes[size]; !ok {
					return bulut.Errorf(bulut.EINVALID, "No such dyno size %q: use free, basic, standard-1x, standard-2x or performance-m.", *u.Size)
				}
				f.Size = size
			}
			f.UpdatedAt = now
			if _, err := tx.ExecContext(ctx, `UPDATE formations SET quantity = ?, size = ?, updated_at = ? WHERE id = ?`,
				f.Quantity, f.Size, formatTime(now), f.ID); err != nil {
				return err
			}
		}
		formation = current
		return nil
	})
	if err != nil {
		return nil, err
	}
	return formation, nil
}

// findFormation reads an app's formation with the commands of its current
// release's slug.
func findFormation(ctx context.Context, tx *sql.Tx, app *bulut.App) ([]*bulut.Formation, error) {
	commands := map[string]string{}
	if rel, err := currentRelease(ctx, tx, app); err != nil {
		return nil, err
	} else if rel != nil && rel.SlugID != "" {
		slug, err := findSlug(ctx, tx, app, rel.SlugID)
		if err != nil {
			return nil, err
		}
		commands = slug.ProcessTypes
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, type, quantity, size, created_at, updated_at FROM formations
		WHERE app_id = ? ORDER BY type`, app.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	formation := []*bulut.Formation{}
	for rows.Next() {
		f := &bulut.Formation{AppID: app.ID}
		var created, updated string
		if err := rows.Scan(&f.ID, &f.Type, &f.Quantity, &f.Size, &created, &updated); err != nil {
			return nil, err
		}
		f.Command, f.CreatedAt, f.UpdatedAt = commands[f.Type], parseTime(created), parseTime(updated)
		formation = append(formation, f)
	}
	return formation, rows.Err()
}
