package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"github.com/bulut-bulut/bulut"
)

// LogDrainService implements bulut.LogDrainService.
type LogDrainService struct{ db *DB }

var _ bulut.LogDrainService = (*LogDrainService)(nil)

// NewLogDrainService returns a LogDrainService on db.
func NewLogDrainService(db *DB) *LogDrainService { return &LogDrainService{db: db} }

const logDrainColumns = `id, app_id, url, token, created_at, updated_at`

// maxDrainURLLength bounds a drain's URL.
const maxDrainURLLength = 2048

func scanLogDrain(row scanner) (*bulut.LogDrain, error) {
	var d bulut.LogDrain
	var created, updated string
	if err := row.Scan(&d.ID, &d.AppID, &d.URL, &d.Token, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = parseTime(created), parseTime(updated)
	return &d, nil
}

func logDrainNotFound() *bulut.Error {
	return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "log-drain", Message: "Couldn't find that log drain."}
}

// findLogDrains reads an app's drains, oldest first.
func findLogDrains(ctx context.Context, tx *sql.Tx, appID string) ([]*bulut.LogDrain, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+logDrainColumns+` FROM log_drains WHERE app_id = ? ORDER BY created_at, id`, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	drains := []*bulut.LogDrain{}
	for rows.Next() {
		d, err := scanLogDrain(rows)
		if err != nil {
			return nil, err
		}
		drains = append(drains, d)
	}
	return drains, rows.Err()
}

// FindLogDrains implements bulut.LogDrainService.
func (s *LogDrainService) FindLogDrains(ctx context.Context, appIDOrName string) ([]*bulut.LogDrain, error) {
	var drains []*bulut.LogDrain
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		drains, err = findLogDrains(ctx, tx, app.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return drains, nil
}

// CreateLogDrain implements bulut.LogDrainService. The URL is kept as
// given, without surrounding white space.
func (s *LogDrainService) CreateLogDrain(ctx context.Context, appIDOrName, rawURL string) (*bulut.LogDrain, error) {
	u, err := checkDrainURL(rawURL)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	d := &bulut.LogDrain{ID: bulut.NewID(), URL: u, Token: "d." + bulut.NewID(), CreatedAt: now, UpdatedAt: now}
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		d.AppID = app.ID
		var n int
		var dup bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(url = ?), 0) FROM log_drains WHERE app_id = ?`,
			u, app.ID).Scan(&n, &dup); err != nil {
			return err
		}
		if dup {
			return &bulut.Error{Code: bulut.ECONFLICT, Resource: "log-drain",
				Message: "The app already drains its logs to " + u + "."}
		}
		if n >= bulut.MaxLogDrains {
			return &bulut.Error{Code: bulut.EINVALID, Resource: "log-drain",
				Message: fmt.Sprintf("An app can have at most %d log drains: remove one before adding another.", bulut.MaxLogDrains)}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO log_drains (`+logDrainColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			d.ID, d.AppID, d.URL, d.Token, formatTime(now), formatTime(now))
		if isUniqueViolation(err) {
			return &bulut.Error{Code: bulut.ECONFLICT, Resource: "log-drain",
				Message: "The app already drains its logs to " + u + "."}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteLogDrain implements bulut.LogDrainService.
func (s *LogDrainService) DeleteLogDrain(ctx context.Context, appIDOrName, key string) (*bulut.LogDrain, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, logDrainNotFound()
	}
	var d *bulut.LogDrain
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		id := key
		if bulut.IsID(id) {
			id = strings.ToLower(id)
		}
		d, err = scanLogDrain(tx.QueryRowContext(ctx, `SELECT `+logDrainColumns+` FROM log_drains
			WHERE app_id = ? AND (id = ? OR url = ? OR token = ?)`, app.ID, id, key, key))
		if errors.Is(err, sql.ErrNoRows) {
			return logDrainNotFound()
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM log_drains WHERE id = ?`, d.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// checkDrainURL returns a drain URL without surrounding white space, or
// EINVALID naming what is wrong with it: the scheme must be syslog,
// syslog+tls (with a host and port) or https (with a host).
func checkDrainURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	invalid := func(why string) error {
		return &bulut.Error{Code: bulut.EINVALID, Resource: "log-drain", Message: "Invalid log drain URL " + quoteDrainURL(raw) + ": " + why +
			" Use syslog://HOST:PORT, syslog+tls://HOST:PORT or https://HOST/PATH."}
	}
	if raw == "" {
		return "", &bulut.Error{Code: bulut.EINVALID, Resource: "log-drain",
			Message: "A log drain needs a URL: syslog://HOST:PORT, syslog+tls://HOST:PORT or https://HOST/PATH."}
	}
	if len(raw) > maxDrainURLLength {
		return "", invalid("it is too long.")
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", invalid("it contains spaces or control characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", invalid("it is not a URL.")
	}
	switch strings.ToLower(u.Scheme) {
	case "syslog", "syslog+tls":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" {
			return "", invalid("syslog drains need a host and a port.")
		}
		if !validPort(port) {
			return "", invalid("the port must be a number from 1 to 65535.")
		}
	case "https":
		if u.Hostname() == "" {
			return "", invalid("HTTPS drains need a host.")
		}
		if p := u.Port(); p != "" && !validPort(p) {
			return "", invalid("the port must be a number from 1 to 65535.")
		}
	case "":
		return "", invalid("it has no scheme.")
	default:
		return "", invalid("the scheme " + u.Scheme + " is not supported.")
	}
	return raw, nil
}

func validPort(p string) bool {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// quoteDrainURL returns s in double quotes, shortened if long.
func quoteDrainURL(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return `"` + s + `"`
}
