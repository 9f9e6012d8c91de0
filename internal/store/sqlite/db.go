// Package sqlite stores the platform's state in one SQLite file (WAL mode)
// through the pure-Go modernc.org/sqlite driver, implementing the domain
// services of package bulut.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/bulut-bulut/bulut"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open database: one connection for writes, so SQLite's single
// writer never waits on a lock, and a pool for reads, which WAL lets run
// beside the writer.
type DB struct {
	Path string
	// Now returns the current time; tests may replace it.
	Now func() time.Time

	write *sql.DB
	read  *sql.DB
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens the database file, creating it if needed, and applies pending
// migrations.
func (db *DB) Open() (err error) {
	if db.Path == "" {
		return fmt.Errorf("sqlite: no path")
	}
	if strings.ContainsAny(db.Path, "?#") {
		return fmt.Errorf("sqlite: database path %q must not contain ? or #", db.Path)
	}
	if db.write, err = sql.Open("sqlite", dsn(db.Path, false)); err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if err := db.migrate(); err != nil {
		db.write.Close()
		return fmt.Errorf("sqlite: migrate %s: %w", db.Path, err)
	}
	if db.read, err = sql.Open("sqlite", dsn(db.Path, true)); err != nil {
		return err
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(2)
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

func (db *DB) migrate() error {
	if _, err := db.write.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(name string) error {
	tx, err := db.write.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	base := filepath.Base(name)
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (name) VALUES (?)`, base); err != nil {
		return err
	}
	return tx.Commit()
}

// update runs fn in a write transaction and commits it if fn succeeds.
func (db *DB) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// view runs fn in a read-only transaction on the read pool, so that its
// queries see one snapshot of the database.
func (db *DB) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func formatTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// parseTime reads a time written by formatTime. Lists scan several per
// row, so the fixed layout is read digit by digit; anything else falls
// back to time.Parse.
func parseTime(s string) time.Time {
	if len(s) == len(timeFormat) && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
		s[16] == ':' && s[19] == '.' && s[26] == 'Z' {
		num := func(from, to int) (int, bool) {
			n := 0
			for i := from; i < to; i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 7)
		d, ok3 := num(8, 10)
		h, ok4 := num(11, 13)
		mi, ok5 := num(14, 16)
		sec, ok6 := num(17, 19)
		us, ok7 := num(20, 26)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
		}
	}
	t, _ := time.Parse(timeFormat, s)
	return t
}

func parseTimePtr(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

// encodeMap returns m as a JSON object ("{}" for nil).
func encodeMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// decodeMap reads a JSON object written by encodeMap; never nil.
func decodeMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" || s == "{}" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("sqlite: bad JSON object %.40q: %w", s, err)
	}
	return m, nil
}

// encodeList returns l as a JSON array ("[]" for nil).
func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a list of strings always encodes
	return string(b)
}

// decodeList reads a JSON array written by encodeList; never nil.
func decodeList(s string) ([]string, error) {
	l := []string{}
	if s == "" || s == "[]" {
		return l, nil
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlite: bad JSON array %.40q: %w", s, err)
	}
	return l, nil
}

// nullString is s as a nullable column: NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// accountScope returns the account ID a context is limited to: "" for a
// system context, EUNAUTHORIZED when the context acts for nobody.
func accountScope(ctx context.Context) (string, error) {
	if bulut.IsSystemContext(ctx) {
		return "", nil
	}
	if id := bulut.AccountIDFromContext(ctx); id != "" {
		return id, nil
	}
	return "", bulut.Errorf(bulut.EUNAUTHORIZED, "Invalid credentials provided.")
}
