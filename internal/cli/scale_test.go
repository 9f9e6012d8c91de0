package cli_test

import (
	"testing"

	"github.com/bulut-bulut/bulut"
)

func TestAgainstServer_Scale(t *testing.T) {
	ct, srv, ctx := newDeployTest(t)
	ct.run("", "ps:scale").wantError(t, 1, "No process types on ⬢ demo.\n ›   Upload a Procfile to add process types.")
	ct.run("", "ps:scale", "web=1").wantError(t, 1, "Couldn't find that process type (web).")

	s := srv.Store.Services()
	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "./web", "worker": "./worker"}, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	if err := s.Slugs.CreateSlug(ctx, "demo", slug); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Releases.CreateRelease(ctx, "demo", slug.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := ct.mustRun("ps:scale").stdout; got != "web=1:Free worker=0:Free\n" {
		t.Fatalf("ps:scale = %q", got)
	}
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"ps:scale", "worker+1:standard-2x", "web=2"}, "Scaling dynos... done, now running web at 2:Free, worker at 1:Standard-2X\n"},
		{[]string{"ps", "scale", "web-1"}, "Scaling dynos... done, now running web at 1:Free\n"},
		{[]string{"scale", "worker=3:Basic", "-a", "demo"}, "Scaling dynos... done, now running worker at 3:Basic\n"},
	} {
		if r := ct.mustRun(c.args...); r.stderr != c.stderr || r.stdout != "" {
			t.Errorf("bulut %v: stderr %q, stdout %q; want stderr %q", c.args, r.stderr, r.stdout, c.stderr)
		}
	}
	if got := ct.mustRun("ps:scale").stdout; got != "web=1:Free worker=3:Basic\n" {
		t.Fatalf("ps:scale = %q", got)
	}

	r := ct.run("", "ps:scale", "web=2", "clock=1")
	r.wantError(t, 1, "Couldn't find that process type (clock).")
	if r.stderr[:len("Scaling dynos... !\n")] != "Scaling dynos... !\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
	ct.run("", "ps:scale", "worker-5").wantError(t, 1, "Quantity of worker can't be negative.")
	ct.run("", "ps:scale", "web=1:huge").wantError(t, 1, `No such dyno size "huge"`)
	for _, arg := range []string{"web", "web=", "web=-1", "web=two", "=1", "web:basic"} {
		ct.run("", "ps:scale", arg).wantError(t, 2, "Usage: bulut ps:scale TYPE1=AMOUNT1[:SIZE]")
	}
	if got := ct.mustRun("ps:scale").stdout; got != "web=1:Free worker=3:Basic\n" {
		t.Fatalf("failed scalings changed the formation: %q", got)
	}
}

func TestAgainstServer_PsType(t *testing.T) {
	ct, srv, ctx := newDeployTest(t)
	ct.run("", "ps:type").wantError(t, 1, "No process types on ⬢ demo.")
	s := srv.Store.Services()
	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "./web", "worker": "./worker"}, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	if err := s.Slugs.CreateSlug(ctx, "demo", slug); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Releases.CreateRelease(ctx, "demo", slug.ID, ""); err != nil {
		t.Fatal(err)
	}
	table := func(rows ...string) string {
		out := ""
		for _, r := range rows {
			out += r + "\n"
		}
		return out
	}
	if got, want := ct.mustRun("ps:type").stdout, table(
		"=== Process Types", "",
		"Type    Size  Qty  Cost/hour  Max cost/month",
		"web     Free  1    ~$0.000    $0",
		"worker  Free  0    ~$0.000    $0",
		"",
		"=== Dyno Totals", "",
		"Type  Total",
		"Free  1",
	); got != want {
		t.Fatalf("ps:type =\n%s\nwant\n%s", got, want)
	}

	r := ct.mustRun("ps:type", "standard-2x")
	if r.stderr != "Scaling dynos on ⬢ demo... done\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
	ct.mustRun("ps:scale", "worker=2")
	if got, want := ct.mustRun("ps:resize", "web=basic").stdout, table(
		"=== Process Types", "",
		"Type    Size         Qty  Cost/hour  Max cost/month",
		"web     Basic        1    ~$0.010    $7",
		"worker  Standard-2X  2    ~$0.139    $100",
		"",
		"=== Dyno Totals", "",
		"Type         Total",
		"Basic        1",
		"Standard-2X  2",
	); got != want {
		t.Fatalf("ps:type =\n%s\nwant\n%s", got, want)
	}
	ct.run("", "ps:type", "clock=basic").wantError(t, 1, "Type clock not found in process formation.\n ›   Types: web, worker")
	ct.run("", "ps:type", "web=basic", "worker").wantError(t, 2, `"worker" is neither`)
	ct.run("", "ps:type", "huge").wantError(t, 1, `No such dyno size "huge"`)
}
