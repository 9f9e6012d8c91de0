package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/runtime"
)

func TestRing(t *testing.T) {
	var r ring
	if got := r.snapshot(); len(got) != 0 {
		t.Fatalf("empty ring: %q", got)
	}
	for i := range 3 {
		r.add(fmt.Sprint(i))
	}
	if got := r.snapshot(); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("%q", got)
	}
	for i := 3; i < ringSize+123; i++ {
		r.add(fmt.Sprint(i))
	}
	got := r.snapshot()
	if len(got) != ringSize || got[0] != "123" || got[ringSize-1] != fmt.Sprint(ringSize+122) {
		t.Fatalf("%d lines from %q to %q", len(got), got[0], got[len(got)-1])
	}
}

func TestLineWriter(t *testing.T) {
	var r ring
	w := &lineWriter{prefix: "app[web.1]: ", r: &r}
	for _, s := range []string{"hel", "lo\nwor", "ld\r\n\n", "no newline"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	want := []string{"app[web.1]: hello", "app[web.1]: world", "app[web.1]: "}
	if got := r.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	w.Flush()
	w.Flush()
	want = append(want, "app[web.1]: no newline")
	if got := r.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("after Flush: %q, want %q", got, want)
	}
	// Long lines are cut into 10000-byte chunks, written or not.
	var r2 ring
	w = &lineWriter{prefix: "p: ", r: &r2}
	w.Write([]byte(strings.Repeat("a", 25000) + "\n"))
	w.Write([]byte(strings.Repeat("b", 10001)))
	got := r2.snapshot()
	if len(got) != 4 || len(got[0]) != 3+10000 || len(got[2]) != 3+5000 || got[3] != "p: "+strings.Repeat("b", 10000) {
		t.Fatalf("%d lines of %d bytes", len(got), len(got[0]))
	}
	w.Flush()
	if got := r2.snapshot(); got[4] != "p: b" {
		t.Fatalf("last %q", got[4])
	}
}

func TestTimingsDefaults(t *testing.T) {
	got := Timings{BootTimeout: time.Second, DrainDelay: -1}.withDefaults()
	if got.BootTimeout != time.Second || got.DrainDelay != 0 || got.StopGrace != 30*time.Second || len(got.RestartDelays) != 6 {
		t.Fatalf("%+v", got)
	}
	for n, want := range map[int]time.Duration{1: 0, 2: 20 * time.Minute, 6: 320 * time.Minute, 7: 320 * time.Minute, 100: 320 * time.Minute} {
		if d := got.restartDelay(n); d != want {
			t.Errorf("cool-off after crash %d: %v, want %v", n, d, want)
		}
	}
}

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		exit runtime.Exit
		want int
	}{
		{runtime.Exit{Code: 0}, 0},
		{runtime.Exit{Code: 3}, 3},
		{runtime.Exit{Code: -1, Signal: "TERM"}, 143},
		{runtime.Exit{Code: -1, Signal: "SIGKILL"}, 137},
		{runtime.Exit{Code: -1, Signal: "INT"}, 130},
		{runtime.Exit{Code: -1, Signal: "WHAT"}, 1},
	} {
		if got := exitStatus(c.exit); got != c.want {
			t.Errorf("exitStatus(%+v) = %d, want %d", c.exit, got, c.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Minute: "60 seconds", 30 * time.Second: "30 seconds", time.Second: "1 second", 1500 * time.Millisecond: "1.5s"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}
