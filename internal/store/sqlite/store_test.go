package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
	"github.com/bulut-bulut/bulut/internal/store/storetest"
)

// openDB opens a database file at path, closed when the test ends.
func openDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newDB opens a fresh database in the test's temporary directory.
func newDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return openDB(tb, filepath.Join(tb.TempDir(), "bulut.db"))
}

func services(db *sqlite.DB) storetest.Services {
	authz := sqlite.NewAuthorizationService(db)
	return storetest.Services{
		Accounts:       sqlite.NewAccountService(db),
		Authorizations: authz,
		LoginSessions:  authz,
		Apps:           sqlite.NewAppService(db),
		Releases:       sqlite.NewReleaseService(db),
		ConfigVars:     sqlite.NewConfigVarService(db),
		Slugs:          sqlite.NewSlugService(db),
		Builds:         sqlite.NewBuildService(db),
		Formations:     sqlite.NewFormationService(db),
		Buildpacks:     sqlite.NewBuildpackService(db),
		LogDrains:      sqlite.NewLogDrainService(db),
		Domains:        sqlite.NewDomainService(db),
		SetNow:         func(now func() time.Time) { db.Now = now },
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Services { return services(newDB(t)) })
}

// rawDB opens the file with database/sql directly, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestDB_WAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bulut.db")
	openDB(t, path)
	var mode string
	if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestDB_OpenErrNoPath(t *testing.T) {
	if err := sqlite.NewDB("").Open(); err == nil {
		t.Fatal("Open with no path succeeded")
	}
}

func TestDB_MigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	db := openDB(t, path)
	acct, err := sqlite.NewAccountService(db).CreateAccount(ctx, "alice@example.com", storetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		db = openDB(t, path)
		got, err := sqlite.NewAccountService(db).FindAccountByID(ctx, acct.ID)
		if err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		if got.Email != acct.Email {
			t.Fatalf("after reopening: email %q, want %q", got.Email, acct.Email)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Each migration is recorded once.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var n, distinct int
	if err := rawDB(t, path).QueryRow(`SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(files) || distinct != len(files) {
		t.Fatalf("schema_migrations has %d rows (%d distinct), want %d", n, distinct, len(files))
	}
}

func TestDB_Reopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	db := openDB(t, path)
	s := services(db)
	acct, err := s.Accounts.CreateAccount(ctx, "alice@example.com", storetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	z, err := s.Authorizations.CreateAuthorization(ctx, acct.ID, "laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "my-app")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = services(openDB(t, path))
	if got, err := s.Accounts.Authenticate(ctx, "alice@example.com", storetest.Password); err != nil {
		t.Fatalf("Authenticate after reopening: %v", err)
	} else if got.ID != acct.ID {
		t.Fatalf("Authenticate after reopening: account %s, want %s", got.ID, acct.ID)
	}
	if got, _, err := s.Authorizations.AuthenticateToken(ctx, z.Token); err != nil {
		t.Fatalf("AuthenticateToken after reopening: %v", err)
	} else if got.ID != acct.ID {
		t.Fatalf("AuthenticateToken after reopening: account %s, want %s", got.ID, acct.ID)
	}
	got, err := s.Apps.FindApp(bulut.NewContextWithAccount(ctx, acct), "my-app")
	if err != nil {
		t.Fatalf("FindApp after reopening: %v", err)
	}
	if got.ID != app.ID || got.OwnerEmail != acct.Email || !got.CreatedAt.Equal(app.CreatedAt) {
		t.Fatalf("FindApp after reopening = %+v, want %+v", got, app)
	}
}

// TestDB_SecretsHashed checks that passwords, tokens and login secrets never
// reach the disk in clear.
func TestDB_SecretsHashed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	db := openDB(t, path)
	s := services(db)
	const password = "Pa55word-that-must-not-leak"
	const email = "alice@example.com"
	acct, err := s.Accounts.CreateAccount(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accounts.Authenticate(ctx, email, password); err != nil {
		t.Fatal(err)
	}
	z, err := s.Authorizations.CreateAuthorization(ctx, acct.ID, "laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := s.LoginSessions.CreateLoginSession(ctx, "bulut CLI")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LoginSessions.ApproveLoginSession(ctx, ls.ID, acct.ID); err != nil {
		t.Fatal(err)
	}
	// A pending session keeps its secret (hashed) on disk.
	pending, err := s.LoginSessions.CreateLoginSession(ctx, "bulut CLI")
	if err != nil {
		t.Fatal(err)
	}
	redeemed, err := s.LoginSessions.RedeemLoginSession(ctx, ls.ID, ls.Secret)
	if err != nil {
		t.Fatal(err)
	}

	// Read the files while open (WAL has data not yet checkpointed) and
	// after closing.
	check := func(when string) {
		t.Helper()
		var data []byte
		for _, p := range []string{path, path + "-wal", path + "-journal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			data = append(data, b...)
		}
		// The check only means something if the data is readable there.
		if !bytes.Contains(data, []byte(email)) || !bytes.Contains(data, []byte(acct.ID)) {
			t.Fatalf("%s: the account's e-mail and ID are not in the database files", when)
		}
		for what, secret := range map[string]string{
			"password":                     password,
			"token":                        z.Token,
			"token without prefix":         z.Token[len(storetest.TokenPrefix):],
			"redeemed token":               redeemed.Token,
			"login session secret":         ls.Secret,
			"pending login session secret": pending.Secret,
		} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s: the %s is stored in clear", when, what)
			}
		}
	}
	check("open")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
}

// TestDB_DeleteAppCascades checks that deleting an app deletes its rows in
// every table of deploys, and only its rows.
func TestDB_DeleteAppCascades(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	s := services(openDB(t, path))
	acct, err := s.Accounts.CreateAccount(ctx, "alice@example.com", storetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	actx := bulut.NewContextWithAccount(ctx, acct)
	var apps []*bulut.App
	for _, name := range []string{"doomed-app", "other-app"} {
		app, err := s.Apps.CreateApp(actx, name)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
		v := "bar"
		if _, _, err := s.ConfigVars.UpdateConfigVars(actx, name, map[string]*string{"FOO": &v}); err != nil {
			t.Fatal(err)
		}
		slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "serve", "worker": "work"}}
		if err := s.Slugs.CreateSlug(actx, name, slug); err != nil {
			t.Fatal(err)
		}
		rel, err := s.Releases.CreateRelease(actx, name, slug.ID, "Deploy")
		if err != nil {
			t.Fatal(err)
		}
		b := &bulut.Build{SourceVersion: "abc"}
		if err := s.Builds.CreateBuild(actx, name, b); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Builds.UpdateBuild(actx, b.ID, bulut.BuildUpdate{SlugID: &slug.ID, ReleaseID: &rel.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.Buildpacks.SetBuildpacks(actx, name, []string{"heroku/python", "heroku/procfile"}); err != nil {
			t.Fatal(err)
		}
	}
	tables := []string{"releases", "config_vars", "slugs", "builds", "formations", "buildpack_installations"}
	raw := rawDB(t, path)
	count := func(table, appID string) int {
		t.Helper()
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM `+table+` WHERE app_id = ?`, appID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := map[string]int{}
	for _, table := range tables {
		if before[table] = count(table, apps[0].ID); before[table] == 0 || count(table, apps[1].ID) != before[table] {
			t.Fatalf("%s: %d rows for the first app, %d for the second; want the same, not 0", table, before[table], count(table, apps[1].ID))
		}
	}
	if _, err := s.Apps.DeleteApp(actx, apps[0].Name); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if n := count(table, apps[0].ID); n != 0 {
			t.Errorf("%s: %d rows of the deleted app remain", table, n)
		}
		if n := count(table, apps[1].ID); n != before[table] {
			t.Errorf("%s: the other app has %d rows, want %d", table, n, before[table])
		}
	}
}

// TestDB_ReopenDeploys checks that releases, config and formation survive
// closing the database.
func TestDB_ReopenDeploys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	db := openDB(t, path)
	s := services(db)
	acct, err := s.Accounts.CreateAccount(ctx, "alice@example.com", storetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	actx := bulut.NewContextWithAccount(ctx, acct)
	if _, err := s.Apps.CreateApp(actx, "my-app"); err != nil {
		t.Fatal(err)
	}
	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "serve"}}
	if err := s.Slugs.CreateSlug(actx, "my-app", slug); err != nil {
		t.Fatal(err)
	}
	v := "1"
	if _, _, err := s.ConfigVars.UpdateConfigVars(actx, "my-app", map[string]*string{"A": &v}); err != nil {
		t.Fatal(err)
	}
	rel, err := s.Releases.CreateRelease(actx, "my-app", slug.ID, "Deploy")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = services(openDB(t, path))
	got, err := s.Releases.FindRelease(actx, "my-app", "v3")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != rel.ID || got.SlugID != slug.ID || got.ConfigVars["A"] != "1" || !got.Current || !got.CreatedAt.Equal(rel.CreatedAt) {
		t.Fatalf("release after reopening = %+v, want %+v", got, rel)
	}
	f, err := s.Formations.FindFormation(actx, "my-app")
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 1 || f[0].Type != "web" || f[0].Quantity != 1 || f[0].Command != "serve" {
		t.Fatalf("formation after reopening = %+v", f)
	}
}

// TestDB_MigrateExistingApps checks that apps made before the deploys
// migration get their v1 Initial release.
func TestDB_MigrateExistingApps(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulut.db")
	raw := rawDB(t, path)
	schema, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	const created = "2026-01-02T03:04:05.000000Z"
	for _, q := range []string{
		string(schema),
		`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY)`,
		`INSERT INTO schema_migrations (name) VALUES ('0001_init.sql')`,
		`INSERT INTO accounts (id, email, password_hash, created_at, updated_at) VALUES
			('0b5e4a4e-1c0e-4d8e-9d1a-1a2b3c4d5e6f', 'alice@example.com', 'x', '` + created + `', '` + created + `')`,
		`INSERT INTO apps (id, name, owner_id, region, stack, created_at, updated_at) VALUES
			('1c6f5b5f-2d1f-4e9f-8e2b-2b3c4d5e6f70', 'old-app', '0b5e4a4e-1c0e-4d8e-9d1a-1a2b3c4d5e6f', 'local', 'heroku-24', '` + created + `', '` + created + `'),
			('2d706c60-3e20-4fa0-9f3c-3c4d5e6f7081', 'old-app-2', '0b5e4a4e-1c0e-4d8e-9d1a-1a2b3c4d5e6f', 'local', 'heroku-24', '` + created + `', '` + created + `')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s := services(openDB(t, path))
	acct, err := s.Accounts.FindAccountByID(ctx, "0b5e4a4e-1c0e-4d8e-9d1a-1a2b3c4d5e6f")
	if err != nil {
		t.Fatal(err)
	}
	actx := bulut.NewContextWithAccount(ctx, acct)
	var ids []string
	for _, app := range []string{"old-app", "old-app-2"} {
		rs, _, err := s.Releases.FindReleases(actx, app, bulut.ListRange{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 {
			t.Fatalf("%s has %d releases after migrating, want 1", app, len(rs))
		}
		r := rs[0]
		if r.Version != 1 || r.Description != "Initial release" || !r.Current || r.SlugID != "" || len(r.ConfigVars) != 0 ||
			r.UserID != acct.ID || r.UserEmail != acct.Email || r.CreatedAt.Format(time.RFC3339) != "2026-01-02T03:04:05Z" {
			t.Fatalf("%s: release %+v, want v1 Initial release by alice at the app's creation", app, r)
		}
		if !bulut.IsID(r.ID) {
			t.Fatalf("release ID %q is not a UUID", r.ID)
		}
		if got, err := s.Releases.FindRelease(actx, app, r.ID); err != nil || got.Version != 1 {
			t.Fatalf("FindRelease by the migrated ID: %+v, %v", got, err)
		}
		ids = append(ids, r.ID)
		// The next release is v2.
		v := "1"
		_, rel, err := s.ConfigVars.UpdateConfigVars(actx, app, map[string]*string{"A": &v})
		if err != nil {
			t.Fatal(err)
		}
		if rel.Version != 2 {
			t.Fatalf("%s: next release is v%d, want v2", app, rel.Version)
		}
	}
	if ids[0] == ids[1] {
		t.Fatal("migrated releases share an ID")
	}
}
