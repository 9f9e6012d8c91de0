package bulut_test

import (
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func TestValidateAppName(t *testing.T) {
	for _, ok := range []string{"abc", "demo", "my-app-2", "a1b", strings.Repeat("a", 30)} {
		if err := bulut.ValidateAppName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "Abc", "1abc", "-abc", "abc-", "a_b", "a.bc", "ça-va", strings.Repeat("a", 31),
		"api", "git", "dashboard", "www", "admin", "status", "logs"} {
		if err := bulut.ValidateAppName(bad); bulut.ErrorCode(err) != bulut.EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
}

func TestGenerateAppName(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		name := bulut.GenerateAppName()
		if err := bulut.ValidateAppName(name); err != nil {
			t.Fatalf("generated %q: %v", name, err)
		}
		seen[name] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct names in 200", len(seen))
	}
}

func TestURLs(t *testing.T) {
	u := bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}
	if got := u.WebURL("demo"); got != "http://demo.localhost:5000/" {
		t.Error(got)
	}
	if got := u.GitURL("demo"); got != "http://git.localhost:5000/demo.git" {
		t.Error(got)
	}
	if got := (bulut.URLs{Scheme: "https", Domain: "paas.example.com", Port: 443}).WebURL("x-y"); got != "https://x-y.paas.example.com/" {
		t.Error(got)
	}
	for host, want := range map[string]bulut.Part{
		"api.localhost:5000": bulut.PartAPI, "127.0.0.1:5000": bulut.PartAPI, "[::1]:5000": bulut.PartAPI, "": bulut.PartAPI,
		"localhost:5000": bulut.PartBare, "LOCALHOST.": bulut.PartBare, "dashboard.localhost": bulut.PartDashboard,
		"git.localhost:5000": bulut.PartGit, "demo.localhost:5000": bulut.PartApp, "www.example.org": bulut.PartApp,
	} {
		if got, _ := u.Classify(host); got != want {
			t.Errorf("Classify(%q) = %v, want %v", host, got, want)
		}
	}
	if _, h := u.Classify("Demo.LocalHost:5000"); u.AppNameFromHost(h) != "demo" {
		t.Errorf("app of %q", h)
	}
	if got := u.AppNameFromHost("a.b.localhost"); got != "" {
		t.Errorf("nested host gave app %q", got)
	}
}

func TestParseListRange(t *testing.T) {
	for header, want := range map[string]bulut.ListRange{
		"":                                 {Field: "id", Max: 200},
		"name ..":                          {Field: "name", Max: 200},
		"name ..; max=10":                  {Field: "name", Max: 10},
		"name ]demo..; max=10, order=desc": {Field: "name", First: "demo", FirstExclusive: true, Max: 10, Desc: true},
		"id a..b; order=asc,max=5":         {Field: "id", First: "a", Last: "b", Max: 5},
		"..; max=3":                        {Field: "id", Max: 3},
	} {
		got, err := bulut.ParseListRange(header, "id", "id", "name")
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", header, got, err, want)
		}
	}
	for _, bad := range []string{"color ..", "name ..; max=0", "name ..; max=1001", "name ..; order=up", "name ..; page=2", "name a-b"} {
		if _, err := bulut.ParseListRange(bad, "id", "id", "name"); bulut.ErrorCode(err) != bulut.ERANGE {
			t.Errorf("%q: %v, want ERANGE", bad, err)
		}
	}
	r := bulut.ListRange{Field: "name", Max: 10, Desc: true}
	if got := r.Next("demo"); got != "name ]demo..; max=10, order=desc" {
		t.Error(got)
	}
}
