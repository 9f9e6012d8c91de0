package sqlite

import (
	"context"
	"database/sql"
	"sort"

	"github.com/bulut-bulut/bulut"
)

// ConfigVarService implements bulut.ConfigVarService.
type ConfigVarService struct{ db *DB }

var _ bulut.ConfigVarService = (*ConfigVarService)(nil)

// NewConfigVarService returns a ConfigVarService on db.
func NewConfigVarService(db *DB) *ConfigVarService { return &ConfigVarService{db: db} }

// loadConfigVars returns an app's current config vars; never nil.
func loadConfigVars(ctx context.Context, tx *sql.Tx, appID string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key, value FROM config_vars WHERE app_id = ?`, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vars := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		vars[k] = v
	}
	return vars, rows.Err()
}

// replaceConfigVars makes vars an app's config vars.
func replaceConfigVars(ctx context.Context, tx *sql.Tx, appID string, vars map[string]string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM config_vars WHERE app_id = ?`, appID); err != nil {
		return err
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO config_vars (app_id, key, value) VALUES (?, ?, ?)`, appID, k, vars[k]); err != nil {
			return err
		}
	}
	return nil
}

// FindConfigVars implements bulut.ConfigVarService.
func (s *ConfigVarService) FindConfigVars(ctx context.Context, appIDOrName string) (map[string]string, error) {
	var vars map[string]string
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		vars, err = loadConfigVars(ctx, tx, app.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return vars, nil
}

// UpdateConfigVars implements bulut.ConfigVarService. The new config and
// the release that carries it are written in one transaction.
func (s *ConfigVarService) UpdateConfigVars(ctx context.Context, appIDOrName string, patch map[string]*string) (map[string]string, *bulut.Release, error) {
	var vars map[string]string
	var rel *bulut.Release
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		if vars, err = loadConfigVars(ctx, tx, app.ID); err != nil {
			return err
		}
		if len(patch) == 0 {
			return nil
		}
		next, description, err := bulut.ApplyConfigPatch(vars, patch)
		if err != nil {
			return err
		}
		for k, v := range patch {
			if v == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM config_vars WHERE app_id = ? AND key = ?`, app.ID, k)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO config_vars (app_id, key, value) VALUES (?, ?, ?)
					ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value`, app.ID, k, *v)
			}
			if err != nil {
				return err
			}
		}
		current, err := currentRelease(ctx, tx, app)
		if err != nil {
			return err
		}
		var slugID string
		if current != nil {
			slugID = current.SlugID
		}
		userID, email, err := actor(ctx, tx, app)
		if err != nil {
			return err
		}
		now := s.db.now()
		if rel, err = insertRelease(ctx, tx, app, newRelease{SlugID: slugID, Description: description, ConfigVars: next,
			UserID: userID, UserEmail: email}, now); err != nil {
			return err
		}
		vars = next
		return touchApp(ctx, tx, app, now, slugID != "")
	})
	if err != nil {
		return nil, nil, err
	}
	return vars, rel, nil
}
