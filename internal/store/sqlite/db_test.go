package sqlite

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(2026, 12, 1, 13, 22, 0, 123456000, time.UTC),
		time.Date(1999, 1, 31, 23, 59, 59, 999999000, time.UTC),
		{},
	} {
		if got := parseTime(formatTime(want)); !got.Equal(want) {
			t.Errorf("parseTime(formatTime(%v)) = %v", want, got)
		}
	}
	if got := parseTime("2026-12-01T13:22:00Z"); !got.IsZero() {
		t.Errorf("another layout parsed as %v", got)
	}
}
