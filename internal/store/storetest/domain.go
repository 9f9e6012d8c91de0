package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func domainTests() []group {
	return []group{
		{"DomainService", []test{
			{"CreateFindDelete", testDomainsCreateFindDelete},
			{"ErrHostname", testDomainsErrHostname},
			{"ErrTaken", testDomainsErrTaken},
			{"ErrOtherAccount", testDomainsErrOtherAccount},
			{"ErrNoAccount", testDomainsErrNoAccount},
			{"WithApp", testDomainsWithApp},
		}},
	}
}

func mustCreateDomain(t *testing.T, s Services, ctx context.Context, app, host string) *bulut.Domain {
	t.Helper()
	d, err := s.Domains.CreateDomain(ctx, app, host)
	if err != nil {
		t.Fatalf("CreateDomain(%q, %q): %v", app, host, err)
	}
	return d
}

func assertHostnames(t *testing.T, s Services, ctx context.Context, app string, want ...string) {
	t.Helper()
	ds, err := s.Domains.FindDomains(ctx, app)
	if err != nil {
		t.Fatalf("FindDomains(%q): %v", app, err)
	}
	if len(ds) != len(want) {
		t.Fatalf("%s: %d domains, want %q", app, len(ds), want)
	}
	for i, d := range ds {
		if d.Hostname != want[i] {
			t.Fatalf("%s: domain %d is %q, want %q", app, i, d.Hostname, want[i])
		}
	}
}

func testDomainsCreateFindDelete(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	assertHostnames(t, s, as(a), app.Name)
	d := mustCreateDomain(t, s, as(a), app.Name, " WWW.Example.COM. ")
	assertID(t, "ID", d.ID)
	if d.AppID != app.ID || d.Hostname != "www.example.com" {
		t.Fatalf("domain = %+v", d)
	}
	assertTime(t, "CreatedAt", d.CreatedAt, clock.Now())
	clock.Advance(time.Second) // stored times keep microseconds: order by creation must not tie
	mustCreateDomain(t, s, as(a), app.ID, "api.example.com")
	assertHostnames(t, s, as(a), app.Name, "www.example.com", "api.example.com")
	assertHostnames(t, s, system(), app.ID, "www.example.com", "api.example.com")

	got, err := s.Domains.FindDomain(context.Background(), "WWW.example.com")
	if err != nil || got.ID != d.ID || got.AppID != app.ID {
		t.Fatalf("FindDomain: %+v, %v", got, err)
	}
	_, err = s.Domains.FindDomain(context.Background(), "other.example.com")
	assertCode(t, err, bulut.ENOTFOUND)

	if del, err := s.Domains.DeleteDomain(as(a), app.Name, "www.example.com"); err != nil || del.ID != d.ID {
		t.Fatalf("DeleteDomain by hostname: %+v, %v", del, err)
	}
	d2, _ := s.Domains.FindDomain(context.Background(), "api.example.com")
	if _, err := s.Domains.DeleteDomain(as(a), app.Name, d2.ID); err != nil {
		t.Fatalf("DeleteDomain by ID: %v", err)
	}
	assertHostnames(t, s, as(a), app.Name)
	_, err = s.Domains.DeleteDomain(as(a), app.Name, "www.example.com")
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Domains.DeleteDomain(as(a), app.Name, "")
	assertCode(t, err, bulut.ENOTFOUND)
}

func testDomainsErrHostname(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, h := range []string{"", "localhost", "-a.example.com", "a-.example.com", "a..example.com", "a b.example.com", "*.example.com", "é.example.com"} {
		_, err := s.Domains.CreateDomain(as(a), app.Name, h)
		assertCode(t, err, bulut.EINVALID)
	}
	assertHostnames(t, s, as(a), app.Name)
}

func testDomainsErrTaken(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(b), "bobs-app")
	mustCreateDomain(t, s, as(a), app.Name, "www.example.com")
	_, err := s.Domains.CreateDomain(as(a), app.Name, "www.example.com")
	assertCode(t, err, bulut.ECONFLICT)
	_, err = s.Domains.CreateDomain(as(b), other.Name, "WWW.example.com")
	assertCode(t, err, bulut.ECONFLICT)
}

func testDomainsErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustCreateDomain(t, s, as(a), app.Name, "www.example.com")
	_, err := s.Domains.FindDomains(as(mallory), app.Name)
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Domains.CreateDomain(as(mallory), app.Name, "api.example.com")
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Domains.DeleteDomain(as(mallory), app.Name, "www.example.com")
	assertCode(t, err, bulut.ENOTFOUND)
	assertHostnames(t, s, as(a), app.Name, "www.example.com")
}

func testDomainsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.Domains.FindDomains(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
	_, err = s.Domains.CreateDomain(context.Background(), app.Name, "www.example.com")
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testDomainsWithApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateDomain(t, s, as(a), app.Name, "www.example.com")
	if _, err := s.Apps.DeleteApp(as(a), app.Name); err != nil {
		t.Fatal(err)
	}
	_, err := s.Domains.FindDomain(context.Background(), "www.example.com")
	assertCode(t, err, bulut.ENOTFOUND)
	// The host name is free again.
	again := mustCreateApp(t, s, as(a), "my-app")
	mustCreateDomain(t, s, as(a), again.Name, "www.example.com")
}
