package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// SlugService implements bulut.SlugService.
type SlugService struct{ db *DB }

var _ bulut.SlugService = (*SlugService)(nil)

// NewSlugService returns a SlugService on db.
func NewSlugService(db *DB) *SlugService { return &SlugService{db: db} }

const slugColumns = `id, app_id, process_types, commit_sha, commit_description, buildpack_description, stack, checksum, size, created_at`

func scanSlug(row scanner) (*bulut.Slug, error) {
	var s bulut.Slug
	var types, created string
	if err := row.Scan(&s.ID, &s.AppID, &types, &s.Commit, &s.CommitDescription, &s.BuildpackDescription, &s.Stack,
		&s.Checksum, &s.Size, &created); err != nil {
		return nil, err
	}
	var err error
	if s.ProcessTypes, err = decodeMap(types); err != nil {
		return nil, err
	}
	s.CreatedAt = parseTime(created)
	return &s, nil
}

// findSlug returns one of app's slugs. ENOTFOUND otherwise.
func findSlug(ctx context.Context, q queryer, app *bulut.App, id string) (*bulut.Slug, error) {
	if !bulut.IsID(id) {
		return nil, bulut.NotFound("slug")
	}
	s, err := scanSlug(q.QueryRowContext(ctx, `SELECT `+slugColumns+` FROM slugs WHERE id = ? AND app_id = ?`,
		strings.ToLower(id), app.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulut.NotFound("slug")
	}
	return s, err
}

// CreateSlug implements bulut.SlugService. AppID is set too, and an empty
// Stack is the app's.
func (s *SlugService) CreateSlug(ctx context.Context, appIDOrName string, slug *bulut.Slug) error {
	for typ := range slug.ProcessTypes {
		if strings.TrimSpace(typ) == "" {
			return &bulut.Error{Code: bulut.EINVALID, Resource: "slug", Message: "Process types must have a name."}
		}
	}
	if slug.Size < 0 {
		return &bulut.Error{Code: bulut.EINVALID, Resource: "slug", Message: "A slug's size must not be negative."}
	}
	id, now := bulut.NewID(), s.db.now()
	var appID, stack string
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		appID, stack = app.ID, slug.Stack
		if stack == "" {
			stack = app.Stack
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO slugs (`+slugColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, app.ID, encodeMap(slug.ProcessTypes), slug.Commit, slug.CommitDescription, slug.BuildpackDescription,
			stack, slug.Checksum, slug.Size, formatTime(now))
		return err
	})
	if err != nil {
		return err
	}
	slug.ID, slug.AppID, slug.Stack, slug.CreatedAt = id, appID, stack, now
	if slug.ProcessTypes == nil {
		slug.ProcessTypes = map[string]string{}
	}
	return nil
}

// FindSlug implements bulut.SlugService.
func (s *SlugService) FindSlug(ctx context.Context, appIDOrName, id string) (*bulut.Slug, error) {
	var slug *bulut.Slug
	err := s.db.view(ctx, func(tx *sql.Tx) error {
		app, err := lookupApp(ctx, s.db, tx, appIDOrName)
		if err != nil {
			return err
		}
		slug, err = findSlug(ctx, tx, app, id)
		return err
	})
	return slug, err
}
