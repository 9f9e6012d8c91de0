package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func logDrainTests() []group {
	return []group{
		{"LogDrainService_Find", []test{
			{"Empty", testFindLogDrainsEmpty},
			{"Order", testFindLogDrainsOrder},
			{"ErrNotFound", testFindLogDrainsErrNotFound},
			{"ErrOtherAccount", testFindLogDrainsErrOtherAccount},
			{"ErrNoAccount", testFindLogDrainsErrNoAccount},
			{"SystemContext", testFindLogDrainsSystemContext},
		}},
		{"LogDrainService_Create", []test{
			{"OK", testCreateLogDrainOK},
			{"Schemes", testCreateLogDrainSchemes},
			{"ErrURL", testCreateLogDrainErrURL},
			{"ErrDuplicate", testCreateLogDrainErrDuplicate},
			{"SameURLOtherApp", testCreateLogDrainSameURLOtherApp},
			{"ErrTooMany", testCreateLogDrainErrTooMany},
			{"ErrNotFound", testCreateLogDrainErrNotFound},
			{"ErrOtherAccount", testCreateLogDrainErrOtherAccount},
			{"ErrNoAccount", testCreateLogDrainErrNoAccount},
			{"SystemContext", testCreateLogDrainSystemContext},
		}},
		{"LogDrainService_Delete", []test{
			{"ByID", testDeleteLogDrainByID},
			{"ByIDUpperCase", testDeleteLogDrainByIDUpperCase},
			{"ByURL", testDeleteLogDrainByURL},
			{"ByToken", testDeleteLogDrainByToken},
			{"ErrNotFound", testDeleteLogDrainErrNotFound},
			{"ErrOtherApp", testDeleteLogDrainErrOtherApp},
			{"ErrOtherAccount", testDeleteLogDrainErrOtherAccount},
			{"ErrNoAccount", testDeleteLogDrainErrNoAccount},
			{"SystemContext", testDeleteLogDrainSystemContext},
			{"WithApp", testDeleteLogDrainWithApp},
		}},
	}
}

// mustCreateLogDrain adds a drain to app.
func mustCreateLogDrain(t *testing.T, s Services, ctx context.Context, app, url string) *bulut.LogDrain {
	t.Helper()
	d, err := s.LogDrains.CreateLogDrain(ctx, app, url)
	if err != nil {
		t.Fatalf("CreateLogDrain(%q, %q): %v", app, url, err)
	}
	return d
}

// mustFindLogDrains lists app's drains.
func mustFindLogDrains(t *testing.T, s Services, ctx context.Context, app string) []*bulut.LogDrain {
	t.Helper()
	ds, err := s.LogDrains.FindLogDrains(ctx, app)
	if err != nil {
		t.Fatalf("FindLogDrains(%q): %v", app, err)
	}
	return ds
}

// assertDrainURLs fails the test unless app's drains have these URLs, in
// this order.
func assertDrainURLs(t *testing.T, s Services, ctx context.Context, app string, want ...string) {
	t.Helper()
	ds := mustFindLogDrains(t, s, ctx, app)
	got := make([]string, len(ds))
	for i, d := range ds {
		got[i] = d.URL
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(got) != len(want) {
		t.Fatalf("%s: drains %q, want %q", app, got, want)
	}
}

// assertSameDrain fails the test unless got is want, field by field.
func assertSameDrain(t *testing.T, got, want *bulut.LogDrain) {
	t.Helper()
	if got == nil || got.ID != want.ID || got.AppID != want.AppID || got.URL != want.URL || got.Token != want.Token ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("drain = %+v, want %+v", got, want)
	}
}

func testFindLogDrainsEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	ds := mustFindLogDrains(t, s, as(a), app.Name)
	if ds == nil || len(ds) != 0 {
		t.Fatalf("drains of a new app = %#v, want an empty list", ds)
	}
}

func testFindLogDrainsOrder(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	urls := []string{"syslog://logs.example.com:514", "https://logs.example.com/in", "syslog+tls://logs.example.com:6514"}
	var created []*bulut.LogDrain
	for _, u := range urls {
		created = append(created, mustCreateLogDrain(t, s, as(a), app.Name, u))
		clock.Advance(time.Second)
	}
	for _, key := range []string{app.Name, app.ID} {
		ds := mustFindLogDrains(t, s, as(a), key)
		if len(ds) != len(created) {
			t.Fatalf("FindLogDrains(%s) = %d drains, want %d", key, len(ds), len(created))
		}
		for i := range ds {
			assertSameDrain(t, ds[i], created[i])
		}
	}
}

func testFindLogDrainsErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.LogDrains.FindLogDrains(as(a), app)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindLogDrainsErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustCreateLogDrain(t, s, as(a), app.Name, "syslog://logs.example.com:514")
	for _, key := range []string{app.Name, app.ID} {
		ds, err := s.LogDrains.FindLogDrains(as(mallory), key)
		assertCode(t, err, bulut.ENOTFOUND)
		if len(ds) != 0 {
			t.Fatalf("FindLogDrains failed but returned %v", ds)
		}
	}
}

func testFindLogDrainsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.LogDrains.FindLogDrains(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindLogDrainsSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateLogDrain(t, s, as(a), app.Name, "syslog://logs.example.com:514")
	assertDrainURLs(t, s, system(), app.ID, "syslog://logs.example.com:514")
}

func testCreateLogDrainOK(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	d := mustCreateLogDrain(t, s, as(a), app.Name, "  syslog+tls://logs.example.com:6514 \n")
	assertID(t, "ID", d.ID)
	if d.AppID != app.ID || d.URL != "syslog+tls://logs.example.com:6514" {
		t.Fatalf("drain = %+v", d)
	}
	token, ok := strings.CutPrefix(d.Token, "d.")
	if !ok || !bulut.IsID(token) {
		t.Fatalf("token = %q, want d.<uuid>", d.Token)
	}
	assertTime(t, "CreatedAt", d.CreatedAt, clock.Now())
	assertTime(t, "UpdatedAt", d.UpdatedAt, clock.Now())
	ds := mustFindLogDrains(t, s, as(a), app.ID)
	if len(ds) != 1 {
		t.Fatalf("drains = %d, want 1", len(ds))
	}
	assertSameDrain(t, ds[0], d)

	// Each drain has its own ID and token.
	d2 := mustCreateLogDrain(t, s, as(a), app.ID, "https://logs.example.com/in")
	if d2.ID == d.ID || d2.Token == d.Token {
		t.Fatalf("two drains share an ID or token: %+v %+v", d, d2)
	}
	// Drains are not releases.
	assertVersions(t, s, as(a), app.Name, 1)
}

func testCreateLogDrainSchemes(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	urls := []string{
		"syslog://logs.example.com:514",
		"syslog+tls://10.0.0.7:6514",
		"https://user:secret@logs.example.com/heroku?token=abc",
		"HTTPS://[::1]:8443/drain",
		"https://logs.example.com",
	}
	for _, u := range urls {
		if d := mustCreateLogDrain(t, s, as(a), app.Name, u); d.URL != u {
			t.Fatalf("URL %q kept as %q", u, d.URL)
		}
	}
	assertDrainURLs(t, s, as(a), app.Name, urls...)
}

func testCreateLogDrainErrURL(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, u := range []string{
		"", "  ",
		"http://logs.example.com/in",      // plain HTTP
		"ftp://logs.example.com/",         // another scheme
		"udp://logs.example.com:514",      // syslog over UDP isn't offered
		"logs.example.com:514",            // no scheme
		"//logs.example.com:514",          // no scheme
		"syslog://logs.example.com",       // no port
		"syslog://:514",                   // no host
		"syslog+tls://logs.example.com:0", // bad port
		"syslog://logs.example.com:99999", // bad port
		"syslog://logs.example.com:http",  // bad port
		"https://",                        // no host
		"https:///path",                   // no host
		"https://logs.example.com/a b",    // space
		"https://logs.example.com/\x00",   // control character
		"mailto:ops@example.com",          // opaque
		"https://" + strings.Repeat("a", 3000) + ".example.com/",
	} {
		_, err := s.LogDrains.CreateLogDrain(as(a), app.Name, u)
		assertCode(t, err, bulut.EINVALID)
		if u != "" && strings.TrimSpace(u) != "" {
			assertMessageContains(t, err, "syslog://HOST:PORT")
		}
	}
	assertDrainURLs(t, s, as(a), app.Name)
}

func testCreateLogDrainErrDuplicate(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateLogDrain(t, s, as(a), app.Name, "https://logs.example.com/in")
	for _, u := range []string{"https://logs.example.com/in", " https://logs.example.com/in "} {
		_, err := s.LogDrains.CreateLogDrain(as(a), app.ID, u)
		assertCode(t, err, bulut.ECONFLICT)
	}
	assertDrainURLs(t, s, as(a), app.Name, "https://logs.example.com/in")
}

func testCreateLogDrainSameURLOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app1 := mustCreateApp(t, s, as(a), "app-one")
	app2 := mustCreateApp(t, s, as(a), "app-two")
	app3 := mustCreateApp(t, s, as(b), "app-three")
	const u = "syslog+tls://logs.example.com:6514"
	d1 := mustCreateLogDrain(t, s, as(a), app1.Name, u)
	d2 := mustCreateLogDrain(t, s, as(a), app2.Name, u)
	d3 := mustCreateLogDrain(t, s, as(b), app3.Name, u)
	if d1.Token == d2.Token || d2.Token == d3.Token {
		t.Fatal("drains of different apps share a token")
	}
}

func testCreateLogDrainErrTooMany(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	var ds []*bulut.LogDrain
	for i := range bulut.MaxLogDrains {
		ds = append(ds, mustCreateLogDrain(t, s, as(a), app.Name, fmt.Sprintf("syslog://logs.example.com:%d", 1000+i)))
	}
	_, err := s.LogDrains.CreateLogDrain(as(a), app.Name, "https://logs.example.com/sixth")
	assertCode(t, err, bulut.EINVALID)
	assertMessageContains(t, err, fmt.Sprint(bulut.MaxLogDrains))
	if n := len(mustFindLogDrains(t, s, as(a), app.Name)); n != bulut.MaxLogDrains {
		t.Fatalf("drains = %d, want %d", n, bulut.MaxLogDrains)
	}
	// The limit is per app.
	mustCreateLogDrain(t, s, as(a), other.Name, "https://logs.example.com/sixth")
	// Removing one makes room.
	if _, err := s.LogDrains.DeleteLogDrain(as(a), app.Name, ds[2].ID); err != nil {
		t.Fatal(err)
	}
	mustCreateLogDrain(t, s, as(a), app.Name, "https://logs.example.com/sixth")
}

func testCreateLogDrainErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID()} {
		_, err := s.LogDrains.CreateLogDrain(as(a), app, "https://logs.example.com/in")
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testCreateLogDrainErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	for _, key := range []string{app.Name, app.ID} {
		_, err := s.LogDrains.CreateLogDrain(as(mallory), key, "https://evil.example/in")
		assertCode(t, err, bulut.ENOTFOUND)
	}
	assertDrainURLs(t, s, as(a), app.Name)
}

func testCreateLogDrainErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.LogDrains.CreateLogDrain(context.Background(), app.Name, "https://logs.example.com/in")
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertDrainURLs(t, s, as(a), app.Name)
}

func testCreateLogDrainSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateLogDrain(t, s, system(), app.ID, "https://logs.example.com/in")
	assertDrainURLs(t, s, as(a), app.Name, "https://logs.example.com/in")
}

// twoDrains makes an app with two drains.
func twoDrains(t *testing.T, s Services) (*bulut.Account, *bulut.App, *bulut.LogDrain, *bulut.LogDrain) {
	t.Helper()
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	d1 := mustCreateLogDrain(t, s, as(a), app.Name, "syslog://logs.example.com:514")
	d2 := mustCreateLogDrain(t, s, as(a), app.Name, "https://logs.example.com/in")
	return a, app, d1, d2
}

// testDeleteLogDrainBy deletes the first of two drains by the key key
// returns, and checks what is left.
func testDeleteLogDrainBy(t *testing.T, s Services, key func(d *bulut.LogDrain) string) {
	a, app, d1, d2 := twoDrains(t, s)
	got, err := s.LogDrains.DeleteLogDrain(as(a), app.Name, key(d1))
	if err != nil {
		t.Fatal(err)
	}
	assertSameDrain(t, got, d1)
	assertDrainURLs(t, s, as(a), app.ID, d2.URL)
	_, err = s.LogDrains.DeleteLogDrain(as(a), app.Name, key(d1))
	assertCode(t, err, bulut.ENOTFOUND)
}

func testDeleteLogDrainByID(t *testing.T, s Services) {
	testDeleteLogDrainBy(t, s, func(d *bulut.LogDrain) string { return d.ID })
}

func testDeleteLogDrainByIDUpperCase(t *testing.T, s Services) {
	testDeleteLogDrainBy(t, s, func(d *bulut.LogDrain) string { return strings.ToUpper(d.ID) })
}

func testDeleteLogDrainByURL(t *testing.T, s Services) {
	testDeleteLogDrainBy(t, s, func(d *bulut.LogDrain) string { return d.URL })
}

func testDeleteLogDrainByToken(t *testing.T, s Services) {
	testDeleteLogDrainBy(t, s, func(d *bulut.LogDrain) string { return d.Token })
}

func testDeleteLogDrainErrNotFound(t *testing.T, s Services) {
	a, app, d1, d2 := twoDrains(t, s)
	for _, key := range []string{"", bulut.NewID(), "d." + bulut.NewID(), "https://logs.example.com/other",
		d1.URL + "/", strings.TrimPrefix(d2.Token, "d.")} {
		_, err := s.LogDrains.DeleteLogDrain(as(a), app.Name, key)
		assertCode(t, err, bulut.ENOTFOUND)
	}
	_, err := s.LogDrains.DeleteLogDrain(as(a), "missing-app", d1.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	assertDrainURLs(t, s, as(a), app.Name, d1.URL, d2.URL)
}

func testDeleteLogDrainErrOtherApp(t *testing.T, s Services) {
	a, app, d1, _ := twoDrains(t, s)
	other := mustCreateApp(t, s, as(a), "my-other-app")
	for _, key := range []string{d1.ID, d1.URL, d1.Token} {
		_, err := s.LogDrains.DeleteLogDrain(as(a), other.Name, key)
		assertCode(t, err, bulut.ENOTFOUND)
	}
	if n := len(mustFindLogDrains(t, s, as(a), app.Name)); n != 2 {
		t.Fatalf("drains = %d, want 2", n)
	}
}

func testDeleteLogDrainErrOtherAccount(t *testing.T, s Services) {
	a, app, d1, _ := twoDrains(t, s)
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	for _, appKey := range []string{app.Name, app.ID} {
		for _, key := range []string{d1.ID, d1.URL, d1.Token} {
			_, err := s.LogDrains.DeleteLogDrain(as(mallory), appKey, key)
			assertCode(t, err, bulut.ENOTFOUND)
		}
	}
	if n := len(mustFindLogDrains(t, s, as(a), app.Name)); n != 2 {
		t.Fatalf("drains = %d, want 2", n)
	}
}

func testDeleteLogDrainErrNoAccount(t *testing.T, s Services) {
	a, app, d1, _ := twoDrains(t, s)
	_, err := s.LogDrains.DeleteLogDrain(context.Background(), app.Name, d1.ID)
	assertCode(t, err, bulut.EUNAUTHORIZED)
	if n := len(mustFindLogDrains(t, s, as(a), app.Name)); n != 2 {
		t.Fatalf("drains = %d, want 2", n)
	}
}

func testDeleteLogDrainSystemContext(t *testing.T, s Services) {
	a, app, d1, d2 := twoDrains(t, s)
	got, err := s.LogDrains.DeleteLogDrain(system(), app.ID, d1.Token)
	if err != nil {
		t.Fatal(err)
	}
	assertSameDrain(t, got, d1)
	assertDrainURLs(t, s, as(a), app.Name, d2.URL)
}

func testDeleteLogDrainWithApp(t *testing.T, s Services) {
	a, app, _, _ := twoDrains(t, s)
	if _, err := s.Apps.DeleteApp(as(a), app.Name); err != nil {
		t.Fatal(err)
	}
	_, err := s.LogDrains.FindLogDrains(system(), app.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	// A new app of the same name starts without drains, and may use the
	// same URLs again.
	again := mustCreateApp(t, s, as(a), app.Name)
	assertDrainURLs(t, s, as(a), again.Name)
	mustCreateLogDrain(t, s, as(a), again.Name, "syslog://logs.example.com:514")
}
