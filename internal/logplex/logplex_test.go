package logplex

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bulut-bulut/bulut"
)

const app = "0b6f3a47-2f0c-4c65-9f4d-6c5e1a1b2c3d"

func newLogplex(t *testing.T, cfg Config) *Logplex {
	t.Helper()
	l := New(cfg)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func texts(lines []bulut.LogLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

func appLine(proc, text string) bulut.LogLine {
	return bulut.LogLine{Source: bulut.SourceApp, Process: proc, Text: text}
}

func TestRingKeepsLastLines(t *testing.T) {
	l := newLogplex(t, Config{Lines: 5})
	for i := range 12 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	if got := texts(l.Recent(app, 100, bulut.LogFilter{})); strings.Join(got, ",") != "7,8,9,10,11" {
		t.Errorf("Recent = %v, want 7..11", got)
	}
	if got := texts(l.Recent(app, 2, bulut.LogFilter{})); strings.Join(got, ",") != "10,11" {
		t.Errorf("Recent(2) = %v", got)
	}
	if got := l.Recent("other", 10, bulut.LogFilter{}); len(got) != 0 {
		t.Errorf("Recent of an app that never logged = %v", got)
	}
	if got := l.Recent(app, 0, bulut.LogFilter{}); len(got) != 0 {
		t.Errorf("Recent(0) = %v", got)
	}
}

func TestLogFillsTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 13, 22, 0, 123456000, time.UTC)
	l := newLogplex(t, Config{Now: func() time.Time { return now }})
	l.Log(app, appLine("web.1", "hello"))
	given := now.Add(-time.Hour)
	l.Log(app, bulut.LogLine{Time: given, Source: "app", Process: "web.1", Text: "old"})
	got := l.Recent(app, 10, bulut.LogFilter{})
	if len(got) != 2 || !got[0].Time.Equal(now) || !got[1].Time.Equal(given) {
		t.Fatalf("Recent = %v", got)
	}
	if s := got[0].String(); s != "2026-12-01T13:22:00.123456+00:00 app[web.1]: hello" {
		t.Errorf("String = %q", s)
	}
}

func TestFilters(t *testing.T) {
	l := newLogplex(t, Config{})
	for _, line := range []bulut.LogLine{
		appLine("web.1", "a"),
		appLine("web.2", "b"),
		appLine("worker.1", "c"),
		{Source: "bulut", Process: "router", Text: "d"},
		{Source: "bulut", Process: "web.1", Text: "e"},
		appLine("api", "f"),
		appLine("web.10", "g"),
		appLine("run.4821", "h"),
	} {
		l.Log(app, line)
	}
	for _, c := range []struct {
		f    bulut.LogFilter
		want string
	}{
		{bulut.LogFilter{}, "abcdefgh"},
		{bulut.LogFilter{Dyno: "web.1"}, "ae"},
		{bulut.LogFilter{Dyno: "web"}, "abeg"},
		{bulut.LogFilter{ProcessType: "web"}, "abeg"},
		{bulut.LogFilter{ProcessType: "worker"}, "c"},
		{bulut.LogFilter{Source: "app"}, "abcfgh"},
		{bulut.LogFilter{Source: "bulut"}, "de"},
		{bulut.LogFilter{Source: "bulut", Dyno: "router"}, "d"},
		{bulut.LogFilter{Source: "app", Dyno: "api"}, "f"},
		{bulut.LogFilter{Source: "app", ProcessType: "web"}, "abg"},
	} {
		if got := strings.Join(texts(l.Recent(app, 100, c.f)), ""); got != c.want {
			t.Errorf("Recent(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
	// n counts matching lines: the last two web lines.
	if got := strings.Join(texts(l.Recent(app, 2, bulut.LogFilter{ProcessType: "web"})), ""); got != "eg" {
		t.Errorf("Recent(2, web) = %q", got)
	}
}

func TestLongLinesSplit(t *testing.T) {
	l := newLogplex(t, Config{})
	max := bulut.MaxLogLineSize
	long := strings.Repeat("x", 2*max+17)
	l.Log(app, appLine("web.1", long))
	got := l.Recent(app, 10, bulut.LogFilter{})
	if len(got) != 3 || len(got[0].Text) != max || len(got[1].Text) != max || len(got[2].Text) != 17 {
		t.Fatalf("split into %d lines", len(got))
	}
	for _, line := range got {
		if line.Process != "web.1" || line.Source != "app" || !line.Time.Equal(got[0].Time) {
			t.Errorf("chunk %+v lost its fields", line)
		}
	}
	// Exactly the maximum stays whole.
	l.Log(app, appLine("web.1", strings.Repeat("y", max)))
	if got := l.Recent(app, 1, bulut.LogFilter{}); len(got[0].Text) != max {
		t.Errorf("a line of the maximum size was cut")
	}
	// Multi-byte characters are not cut in the middle.
	l.Log(app, appLine("web.1", strings.Repeat("a", max-1)+"é"+strings.Repeat("b", 10)))
	got = l.Recent(app, 2, bulut.LogFilter{})
	if len(got) != 2 || len(got[0].Text) != max-1 || !utf8.ValidString(got[0].Text) || !utf8.ValidString(got[1].Text) ||
		got[0].Text+got[1].Text != strings.Repeat("a", max-1)+"é"+strings.Repeat("b", 10) {
		t.Errorf("split of a multi-byte character: %d lines, %d and %d bytes", len(got), len(got[0].Text), len(got[1].Text))
	}
}

func TestTail(t *testing.T) {
	l := newLogplex(t, Config{})
	l.Log(app, appLine("web.1", "before"))
	ctx, cancel := context.WithCancel(context.Background())
	ch := l.Tail(ctx, app, bulut.LogFilter{Dyno: "web.1"})
	start := time.Now()
	l.Log(app, appLine("web.2", "other dyno"))
	l.Log(app, appLine("web.1", "one"))
	l.Log("other-app", appLine("web.1", "other app"))
	l.Log(app, appLine("web.1", "two"))
	for _, want := range []string{"one", "two"} {
		select {
		case line := <-ch:
			if line.Text != want {
				t.Fatalf("tail got %q, want %q", line.Text, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("tail did not get %q within a second", want)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("tail took %v", d)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("a line after the end")
		}
	case <-time.After(time.Second):
		t.Fatal("channel not closed when ctx ended")
	}
	l.Log(app, appLine("web.1", "after")) // no panic on a closed tail
}

func TestRecentAndTail(t *testing.T) {
	l := newLogplex(t, Config{})
	for i := range 5 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	recent, ch := l.RecentAndTail(t.Context(), app, 3, bulut.LogFilter{})
	l.Log(app, appLine("web.1", "5"))
	if got := strings.Join(texts(recent), ","); got != "2,3,4" {
		t.Errorf("recent = %s", got)
	}
	if line := <-ch; line.Text != "5" {
		t.Errorf("tail = %q", line.Text)
	}
}

func TestCloseEndsTails(t *testing.T) {
	l := New(Config{})
	l.Open()
	ch := l.Tail(context.Background(), app, bulut.LogFilter{})
	l.Log(app, appLine("web.1", "x"))
	l.Close()
	if line := <-ch; line.Text != "x" {
		t.Errorf("got %q", line.Text)
	}
	if _, ok := <-ch; ok {
		t.Error("channel not closed by Close")
	}
	if _, ok := <-l.Tail(context.Background(), app, bulut.LogFilter{}); ok {
		t.Error("Tail after Close is not closed")
	}
	l.Log(app, appLine("web.1", "y")) // ignored
}

// A tail that never reads neither slows nor blocks producers; once it
// reads again it gets an L11 line with the count of lines it lost.
func TestSlowTailL11(t *testing.T) {
	now := time.Date(2026, 12, 1, 13, 22, 0, 0, time.UTC)
	l := newLogplex(t, Config{TailBuffer: 10, Now: func() time.Time { return now }})
	ch := l.Tail(t.Context(), app, bulut.LogFilter{})
	other := l.Tail(t.Context(), app, bulut.LogFilter{Dyno: "worker"}) // matches nothing
	const n = 200_000
	line := appLine("web.1", "a line of a typical length, like a router line or a request log")
	start := time.Now()
	var worst time.Duration
	for range n {
		t0 := time.Now()
		l.Log(app, line)
		worst = max(worst, time.Since(t0))
	}
	total := time.Since(start)
	t.Logf("%d lines in %v (%.0f lines/s) with a stuck tail, slowest Log %v", n, total, n/total.Seconds(), worst)
	if total > 5*time.Second || worst > 500*time.Millisecond {
		t.Errorf("producer slowed by a stuck tail: %v in all, slowest %v", total, worst)
	}
	for i := range 10 {
		if got := <-ch; got.Text != line.Text {
			t.Fatalf("line %d = %q", i, got.Text)
		}
	}
	var l11 bulut.LogLine
	select {
	case l11 = <-ch:
	case <-time.After(time.Second):
		t.Fatal("no L11 line after catching up")
	}
	want := "L11 (Tail buffer overflow) -> This tail session dropped " + strconv.Itoa(n-10) +
		" messages since 2026-12-01T13:22:00+00:00"
	if l11.Text != want || l11.Source != "bulut" || l11.Process != "logplex" {
		t.Errorf("L11 line = %s, want bulut[logplex]: %s", l11, want)
	}
	l.Log(app, appLine("web.1", "again"))
	if got := <-ch; got.Text != "again" {
		t.Errorf("after L11 got %q", got.Text)
	}
	select {
	case got := <-other:
		t.Errorf("a tail that matches nothing got %s", got)
	default:
	}
	if got := l.Recent(app, 1, bulut.LogFilter{}); got[0].Text != "again" {
		t.Errorf("the L11 line went into the app's stream")
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Lines: 100, FlushInterval: 10 * time.Millisecond}
	l := New(cfg)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 13, 0, 0, 123456000, time.UTC)
	for i := range 250 {
		l.Log(app, bulut.LogLine{Time: base.Add(time.Duration(i) * time.Millisecond), Source: "app", Process: "web.1", Text: "line " + strconv.Itoa(i)})
	}
	l.Log(app, bulut.LogLine{Source: "bulut", Process: "router", Text: "tab\tnew\nline é"})
	l.Log("weird/app id", appLine("web.1", "escaped name"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l2 := newLogplex(t, cfg)
	got := l2.Recent(app, 1000, bulut.LogFilter{})
	if len(got) != 100 {
		t.Fatalf("%d lines after restart, want 100", len(got))
	}
	for i, line := range got[:99] {
		n := 151 + i
		if line.Text != "line "+strconv.Itoa(n) || line.Source != "app" || line.Process != "web.1" ||
			!line.Time.Equal(base.Add(time.Duration(n)*time.Millisecond)) {
			t.Fatalf("line %d after restart = %+v", i, line)
		}
	}
	if last := got[99]; last.Text != "tab\tnew\nline é" || last.Process != "router" || last.Source != "bulut" {
		t.Errorf("last line = %+v", last)
	}
	if got := l2.Recent("weird/app id", 10, bulut.LogFilter{}); len(got) != 1 || got[0].Text != "escaped name" {
		t.Errorf("app with an odd ID: %v", got)
	}

	// Many more lines: the file stays a few times Lines long.
	for i := range 2000 {
		l2.Log(app, appLine("web.1", "more "+strconv.Itoa(i)))
		if i%100 == 0 {
			time.Sleep(2 * cfg.FlushInterval)
		}
	}
	time.Sleep(3 * cfg.FlushInterval)
	fi, err := os.Stat(filepath.Join(dir, app+".log"))
	if err != nil {
		t.Fatal(err)
	}
	one := len(appendRecord(nil, bulut.LogLine{Time: base, Source: "app", Process: "web.1", Text: "more 1999"}))
	if fi.Size() > int64(compactFactor*100*one+len(fileMagic)) {
		t.Errorf("file is %d bytes, more than %d lines", fi.Size(), compactFactor*100)
	}
	l2.Close()
	l3 := newLogplex(t, cfg)
	if got := texts(l3.Recent(app, 1000, bulut.LogFilter{})); len(got) != 100 || got[99] != "more 1999" || got[0] != "more 1900" {
		t.Errorf("after compaction and restart: %d lines, %v..%v", len(got), got[0], got[len(got)-1])
	}
}

// A crash leaves the files as they were: lines older than the flush
// interval are there, a torn last record is cut off, and appending after
// it works.
func TestPersistenceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Lines: 50, FlushInterval: 20 * time.Millisecond}
	l := newLogplex(t, cfg)
	for i := range 30 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	time.Sleep(5 * cfg.FlushInterval)
	// The crash: copy the file as it is now, with a torn record at its end.
	b, err := os.ReadFile(filepath.Join(dir, app+".log"))
	if err != nil {
		t.Fatal(err)
	}
	rec := appendRecord(nil, appLine("web.1", "torn"))
	b = append(b, rec[:len(rec)-3]...)
	crashed := t.TempDir()
	if err := os.WriteFile(filepath.Join(crashed, app+".log"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Dir = crashed
	l2 := New(cfg)
	if err := l2.Open(); err != nil {
		t.Fatal(err)
	}
	if got := texts(l2.Recent(app, 100, bulut.LogFilter{})); len(got) != 30 || got[29] != "29" {
		t.Fatalf("after the crash: %v", got)
	}
	l2.Log(app, appLine("web.1", "after"))
	l2.Close()
	l3 := newLogplex(t, cfg)
	if got := texts(l3.Recent(app, 100, bulut.LogFilter{})); len(got) != 31 || got[30] != "after" {
		t.Fatalf("appended after a torn record: %v", got)
	}
}

// TestKill9 kills a process that logs a line every millisecond: the lines
// it logged up to a flush interval before the kill are on disk.
func TestKill9(t *testing.T) {
	if os.Getenv("LOGPLEX_CHILD_DIR") != "" {
		childLogger()
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$")
	cmd.Env = append(os.Environ(), "LOGPLEX_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	last := -1
	for sc.Scan() {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			last = n
			if n >= 1000 {
				break
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if last < 1000 {
		t.Fatalf("child stopped at %d", last)
	}
	l := newLogplex(t, Config{Dir: dir})
	got := l.Recent(app, 1500, bulut.LogFilter{})
	if len(got) == 0 {
		t.Fatal("nothing survived the kill")
	}
	n, _ := strconv.Atoi(got[len(got)-1].Text)
	t.Logf("logged %d lines before the kill, %d survived (last %d)", last+1, len(got), n)
	if last-n > 1000 { // a second of lines
		t.Errorf("lost %d lines", last-n)
	}
	for i, line := range got {
		if line.Text != strconv.Itoa(n-len(got)+1+i) {
			t.Fatalf("line %d = %q: not in sequence", i, line.Text)
		}
	}
}

func childLogger() {
	l := New(Config{Dir: os.Getenv("LOGPLEX_CHILD_DIR")})
	if err := l.Open(); err != nil {
		panic(err)
	}
	for i := 0; ; i++ {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
		fmt.Println(i)
		time.Sleep(time.Millisecond)
	}
}

func TestForget(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, FlushInterval: 10 * time.Millisecond}
	l := newLogplex(t, cfg)
	ch := l.Tail(t.Context(), app, bulut.LogFilter{})
	l.Log(app, appLine("web.1", "x"))
	<-ch
	time.Sleep(5 * cfg.FlushInterval)
	l.Forget(app)
	if _, ok := <-ch; ok {
		t.Error("tail not ended")
	}
	if got := l.Recent(app, 10, bulut.LogFilter{}); len(got) != 0 {
		t.Errorf("Recent after Forget = %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, app+".log")); !os.IsNotExist(err) {
		t.Errorf("file left: %v", err)
	}
}

func TestOpenErrorAndCloseWithoutOpen(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	l := New(Config{Dir: filepath.Join(file, "logs")})
	if err := l.Open(); err == nil {
		t.Error("Open with a Dir under a file succeeded")
	}
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close after a failed Open hangs")
	}

	// Never opened: Close still writes what was logged.
	dir := t.TempDir()
	l = New(Config{Dir: dir})
	l.Log(app, appLine("web.1", "x"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = newLogplex(t, Config{Dir: dir})
	if got := texts(l.Recent(app, 10, bulut.LogFilter{})); len(got) != 1 || got[0] != "x" {
		t.Errorf("Recent = %v", got)
	}
}
