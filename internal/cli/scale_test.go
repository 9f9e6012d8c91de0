package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

func TestAgainstServer_Scale(t *testing.T) {
	ct, srv, ctx := newDeployTest(t)
	ct.run("", "ps:scale").wantError(t, 1, "No process types on ⬢ demo.\n ›   Upload a Procfile to add process types.")
	ct.run("", "ps:scale", "web=1").wantError(t, 1, "Couldn't find that process type (web).")

	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "./web", "worker": "./worker"}, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	release(t, srv.Store.Services(), ctx, slug, "")
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
	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "./web", "worker": "./worker"}, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	release(t, srv.Store.Services(), ctx, slug, "")
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

// deploySlug stores a slug whose blob holds files (under /app) and
// releases it, as a push would.
func deploySlug(t *testing.T, srv *testenv.Env, ctx context.Context, types, files map[string]string) {
	t.Helper()
	s := srv.Store.Services()
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	if err := s.Slugs.CreateSlug(ctx, "demo", slug); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	blobs := fsblob.New(filepath.Join(srv.Config.DataDir, "blobs"))
	if _, err := blobs.PutBlob(ctx, bulut.SlugBlobKey(slug.ID), &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Releases.CreateRelease(ctx, "demo", slug.ID, ""); err != nil {
		t.Fatal(err)
	}
}

// waitOutput runs the CLI until its output matches pattern.
func (ct *cliTest) waitOutput(pattern string, args ...string) string {
	ct.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := ct.mustRun(args...).stdout
		if re.MatchString(out) {
			return out
		}
		if time.Now().After(deadline) {
			ct.t.Fatalf("bulut %s: %q doesn't match /%s/", strings.Join(args, " "), out, pattern)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAgainstServer_Run(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	ct, _, _ := newDeployTest(t)
	ct.env["TERM"] = "xterm"

	r := ct.mustRun("run", "echo", "hello")
	if r.stdout != "hello\n" {
		t.Fatalf("run echo: stdout %q", r.stdout)
	}
	wantLines(t, r.stderr, `Running echo hello on ⬢ demo\.\.\. up, run\.\d{4}`)

	r = ct.run("line one\nline two\n", "run", "-e", "A=1;B=2", "cat; echo $DYNO $A $B $TERM; exit 3")
	if r.code != 3 || strings.Contains(r.stderr, "Error") {
		t.Fatalf("run: exit %d, stderr %q", r.code, r.stderr)
	}
	wantLines(t, r.stdout, `line one`, `line two`, `run\.\d{4} 1 2 xterm`)

	ct.run("", "run", "--size", "huge", "true").wantError(t, 1, `No such dyno size "huge"`)
	ct.run("", "run", "true", "-a", "nope").wantError(t, 1, "Couldn't find that app.")
}

func TestAgainstServer_PsAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	ct, srv, ctx := newDeployTest(t)
	if got := ct.mustRun("ps").stdout; got != "No dynos on ⬢ demo\n" {
		t.Fatalf("ps = %q", got)
	}
	r := ct.mustRun("run:detached", "sleep", "600")
	wantLines(t, r.stderr, `Running sleep 600 on ⬢ demo\.\.\. done, run\.\d{4} \(Free\)`)
	name := strings.Fields(r.stdout)[6]
	out := ct.waitOutput(`: up `, "ps")
	wantLines(t, out, quotaPattern, ``, `=== run: one-off processes \(1\)`, regexp.QuoteMeta(name)+` \(Free\): up `+agoPattern+`: sleep 600`)

	deploySlug(t, srv, ctx, map[string]string{"worker": "./worker"}, map[string]string{"worker": "#!/bin/sh\nexec sleep 600\n"})
	ct.mustRun("ps:scale", "worker=2")
	out = ct.waitOutput(`worker\.1: up .*\nworker\.2: up `, "ps")
	wantLines(t, out, quotaPattern, ``,
		`=== run: one-off processes \(1\)`,
		regexp.QuoteMeta(name)+` \(Free\): up `+agoPattern+`: sleep 600`,
		``,
		`=== worker \(Free\): ./worker \(2\)`,
		`worker\.1: up `+agoPattern,
		`worker\.2: up `+agoPattern,
	)
	wantLines(t, ct.mustRun("ps", "worker").stdout, quotaPattern, ``, `=== worker \(Free\): ./worker \(2\)`, `worker\.1: up .*`, `worker\.2: up .*`)

	ids := func() string {
		var dynos []struct{ Name, ID string }
		if err := json.Unmarshal([]byte(ct.mustRun("ps", "worker", "--json").stdout), &dynos); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(dynos)
	}
	before := ids()
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"restart"}, "Restarting dynos on ⬢ demo... done\n"},
		{[]string{"ps:restart", "worker"}, "Restarting worker dynos on ⬢ demo... done\n"},
		{[]string{"ps:restart", "worker.1"}, "Restarting worker.1 dyno on ⬢ demo... done\n"},
		{[]string{"ps:stop", "worker.2"}, "Stopping worker.2 dyno on ⬢ demo... done\n"},
	} {
		if r := ct.mustRun(c.args...); r.stderr != c.stderr {
			t.Errorf("bulut %v: stderr %q, want %q", c.args, r.stderr, c.stderr)
		}
		ct.waitOutput(`worker\.1: up .*\nworker\.2: up `, "ps")
		if now := ids(); now == before {
			t.Errorf("bulut %v didn't replace a dyno: %s", c.args, now)
		} else {
			before = now
		}
	}
	ct.mustRun("ps:stop", name)
	ct.waitOutput(`(?m)^=== worker`, "ps")
	ct.run("", "ps:stop", "worker.7").wantError(t, 1, "Couldn't find that dyno.")
	ct.run("", "ps:restart", "web").wantError(t, 1, "Couldn't find that process type (web).")
	ct.mustRun("ps:scale", "worker=0")
	ct.waitOutput(`^No dynos on ⬢ demo\n$`, "ps")
}
