// Package promtext writes metrics in Prometheus's text exposition format
// (version 0.0.4): a family's HELP and TYPE lines, samples with escaped
// label values, and histograms. Components write their own families
// with it; internal/server serves them together at /metrics.
package promtext

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ContentType is the Content-Type of a scrape's response.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Family writes the HELP and TYPE lines that start a metric family; typ
// is "counter", "gauge" or "histogram".
func Family(w io.Writer, name, typ, help string) {
	io.WriteString(w, "# HELP "+name+" "+helpEscaper.Replace(help)+"\n# TYPE "+name+" "+typ+"\n")
}

// Labels formats label pairs (name, value, name, value...) as
// {name="value",...}, the values escaped; no pairs give "".
func Labels(pairs ...string) string {
	if len(pairs) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteString(`="`)
		b.WriteString(EscapeLabel(pairs[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// EscapeLabel escapes a label value: backslashes, double quotes and
// line feeds.
func EscapeLabel(s string) string { return labelEscaper.Replace(s) }

// Sample writes a sample line: the metric's name, its labels (from
// Labels) and its value.
func Sample(w io.Writer, name, labels string, value float64) {
	io.WriteString(w, name+labels+" "+FormatValue(value)+"\n")
}

// FormatValue formats a sample's value ("+Inf", "NaN" included).
func FormatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Histogram counts observations in buckets. It is not safe for
// concurrent use: its owner guards it.
type Histogram struct {
	bounds []float64 // upper bounds, ascending
	counts []uint64  // per bucket, not cumulative; the last is +Inf
	sum    float64
}

// NewHistogram returns a histogram with these bucket upper bounds
// (ascending; +Inf is implied).
func NewHistogram(bounds ...float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Observe counts a value.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // v == bound falls in that bucket (le)
	h.counts[i]++
	h.sum += v
}

// Count returns how many values were observed.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// Write writes the histogram's samples (name_bucket for each bound and
// +Inf, name_sum, name_count) with the label pairs given.
func (h *Histogram) Write(w io.Writer, name string, pairs ...string) {
	var cum uint64
	for i, c := range h.counts {
		cum += c
		le := "+Inf"
		if i < len(h.bounds) {
			le = FormatValue(h.bounds[i])
		}
		Sample(w, name+"_bucket", Labels(append(slices.Clip(pairs), "le", le)...), float64(cum))
	}
	labels := Labels(pairs...)
	Sample(w, name+"_sum", labels, h.sum)
	Sample(w, name+"_count", labels, float64(cum))
}

// Samples reads a scrape's sample lines (comments skipped): each sample's
// value by its name and labels, as written (for tests and checks).
func Samples(text string) (map[string]float64, error) {
	samples := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		series, value, ok := strings.Cut(l, " ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("bad sample line %q", l)
		}
		samples[series] = v
	}
	return samples, nil
}
