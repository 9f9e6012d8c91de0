package promtext_test

import (
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/promtext"
)

func TestLabels(t *testing.T) {
	for _, c := range []struct {
		pairs []string
		want  string
	}{
		{nil, ""},
		{[]string{"app", "demo"}, `{app="demo"}`},
		{[]string{"app", `a"b\c` + "\nd", "state", "up"}, `{app="a\"b\\c\nd",state="up"}`},
	} {
		if got := promtext.Labels(c.pairs...); got != c.want {
			t.Errorf("Labels(%q) = %s, want %s", c.pairs, got, c.want)
		}
	}
}

func TestHistogram(t *testing.T) {
	h := promtext.NewHistogram(1, 2.5)
	for _, v := range []float64{0.5, 1, 2, 7} {
		h.Observe(v)
	}
	var b strings.Builder
	promtext.Family(&b, "x_seconds", "histogram", "A test.\nTwo lines.")
	h.Write(&b, "x_seconds", "app", "a")
	want := `# HELP x_seconds A test.\nTwo lines.
# TYPE x_seconds histogram
x_seconds_bucket{app="a",le="1"} 2
x_seconds_bucket{app="a",le="2.5"} 3
x_seconds_bucket{app="a",le="+Inf"} 4
x_seconds_sum{app="a"} 10.5
x_seconds_count{app="a"} 4
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if h.Count() != 4 {
		t.Errorf("Count() = %d", h.Count())
	}
}
