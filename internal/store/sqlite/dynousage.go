package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bulut-bulut/bulut"
)

// DynoUsageService implements bulut.DynoUsageService.
type DynoUsageService struct{ db *DB }

var _ bulut.DynoUsageService = (*DynoUsageService)(nil)

// NewDynoUsageService returns a DynoUsageService on db.
func NewDynoUsageService(db *DB) *DynoUsageService { return &DynoUsageService{db: db} }

// AddDynoUsage adds seconds to an app's usage in a month. ENOTFOUND for
// an unknown app.
func (s *DynoUsageService) AddDynoUsage(ctx context.Context, appID, month string, seconds int64) error {
	if seconds < 0 {
		return bulut.Errorf(bulut.EINVALID, "negative dyno usage")
	}
	return s.db.update(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM apps WHERE id = ?`, appID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return bulut.NotFound("app")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO dyno_usage (app_id, month, seconds) VALUES (?, ?, ?)
			ON CONFLICT (app_id, month) DO UPDATE SET seconds = seconds + excluded.seconds`, appID, month, seconds)
		return err
	})
}

// FindDynoUsage returns an app's usage in a month (zero if none).
func (s *DynoUsageService) FindDynoUsage(ctx context.Context, appID, month string) (*bulut.DynoUsage, error) {
	u := &bulut.DynoUsage{AppID: appID, Month: month}
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT seconds FROM dyno_usage WHERE app_id = ? AND month = ?`, appID, month).Scan(&u.Seconds)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
