package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// rangeField is a column lists may be ranged by, with how Range bounds
// convert to the column's values.
type rangeField struct {
	col string
	// tie orders rows with equal values of col (for columns that aren't
	// unique); "" when col is unique.
	tie string
	// bound converts a First or Last value; an error is ERANGE.
	bound func(string) (any, bool)
}

// idBound reads an ID bound: IDs compare case-insensitively.
func idBound(s string) (any, bool) { return strings.ToLower(s), true }

// versionBound reads a release version bound, "5" or "v5", as an integer
// so that v10 sorts after v9.
func versionBound(s string) (any, bool) {
	if s == "0" || s == "v0" {
		return 0, true
	}
	v, ok := parseVersion(s)
	return v, ok
}

// timeBound reads a time bound in RFC 3339 (any precision) as the stored
// fixed-width text.
func timeBound(s string) (any, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, false
	}
	return formatTime(t), true
}

// parseVersion reads a release version, "5" or "v5".
func parseVersion(s string) (int, bool) {
	s = strings.TrimPrefix(s, "v")
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil && v > 0
}

// normalizeRange fills in a zero range's field and page size.
func normalizeRange(r bulut.ListRange, defaultField string) bulut.ListRange {
	if r.Field == "" {
		r.Field = defaultField
	}
	if r.Max <= 0 {
		r.Max = bulut.DefaultPageSize
	}
	return r
}

// rangeClauses returns the WHERE conditions and arguments that keep the
// rows within r, and the ORDER BY expression. First and Last are in
// iteration order: with order=desc, First is the upper bound.
func rangeClauses(what string, r bulut.ListRange, fields map[string]rangeField) (where []string, args []any, orderBy string, err error) {
	f, ok := fields[r.Field]
	if !ok {
		return nil, nil, "", bulut.Errorf(bulut.ERANGE, "%s can't be ranged by %s.", what, r.Field)
	}
	lo, hi, order := ">", "<", "ASC"
	if r.Desc {
		lo, hi, order = "<", ">", "DESC"
	}
	bound := func(s string) (any, error) {
		v, ok := f.bound(s)
		if !ok {
			return nil, bulut.Errorf(bulut.ERANGE, "Invalid Range header: %q is not a valid %s.", s, r.Field)
		}
		return v, nil
	}
	if r.First != "" {
		v, err := bound(r.First)
		if err != nil {
			return nil, nil, "", err
		}
		op := lo + "="
		if r.FirstExclusive {
			op = lo
		}
		where, args = append(where, f.col+" "+op+" ?"), append(args, v)
	}
	if r.Last != "" {
		v, err := bound(r.Last)
		if err != nil {
			return nil, nil, "", err
		}
		where, args = append(where, f.col+" "+hi+"= ?"), append(args, v)
	}
	orderBy = f.col + " " + order
	if f.tie != "" {
		orderBy += ", " + f.tie + " " + order
	}
	return where, args, orderBy, nil
}

// appList is a ranged list of one app's rows of a table: the resource's
// name for errors, its Range fields and default field, the table and the
// columns selected.
type appList struct {
	what         string
	fields       map[string]rangeField
	defaultField string
	table        string
	columns      string
}

// findAppPage runs a list query for an app within a range and scans each
// row; more reports whether the range cut the list short.
func findAppPage[T any](ctx context.Context, db *DB, appIDOrName string, r bulut.ListRange, l appList,
	scan func(rows *sql.Rows, app *bulut.App) (T, error)) ([]T, bool, error) {
	r = normalizeRange(r, l.defaultField)
	where, args, orderBy, err := rangeClauses(l.what, r, l.fields)
	if err != nil {
		return nil, false, err
	}
	var items []T
	err = db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, db, tx, appIDOrName)
		if err != nil {
			return err
		}
		query := `SELECT ` + l.columns + ` FROM ` + l.table + ` WHERE ` + l.table + `.app_id = ?`
		for _, w := range where {
			query += ` AND ` + w
		}
		query += ` ORDER BY ` + orderBy + ` LIMIT ?`
		rows, err := tx.QueryContext(ctx, query, append(append([]any{app.ID}, args...), r.Max+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		items = make([]T, 0, min(r.Max, 64))
		for rows.Next() {
			item, err := scan(rows, app)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, err
	}
	more := len(items) > r.Max
	if more {
		items = items[:r.Max]
	}
	return items, more, nil
}
