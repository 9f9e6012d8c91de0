package bulut

import (
	"fmt"
	"strconv"
	"strings"
)

// ListRange is a page request in Heroku's Range header syntax:
// `FIELD [FIRST]..[LAST][; max=N[, order=desc]]`, where a first value
// starting with "]" is exclusive (as in Next-Range values).
type ListRange struct {
	Field          string
	First          string
	FirstExclusive bool
	Last           string
	Max            int
	Desc           bool
}

// Page sizes of list endpoints.
const (
	DefaultPageSize = 200
	MaxPageSize     = 1000
)

// ParseListRange parses a Range header. Empty means the whole list in the
// default order of defaultField. Only fields in allowed may be used; anything
// else is an ERANGE error.
func ParseListRange(header, defaultField string, allowed ...string) (ListRange, error) {
	r := ListRange{Field: defaultField, Max: DefaultPageSize}
	header = strings.TrimSpace(header)
	if header == "" {
		return r, nil
	}
	bad := func(format string, args ...any) (ListRange, error) {
		return ListRange{}, Errorf(ERANGE, "Invalid Range header: %s", fmt.Sprintf(format, args...))
	}
	spec, params, _ := strings.Cut(header, ";")
	spec = strings.TrimSpace(spec)
	field, bounds, ok := strings.Cut(spec, " ")
	if !ok {
		// "name" alone or "..": decide by the presence of "..".
		if strings.Contains(spec, "..") {
			field, bounds = "", spec
		} else {
			field, bounds = spec, ".."
		}
	}
	if field != "" {
		r.Field = field
	}
	valid := false
	for _, a := range allowed {
		valid = valid || a == r.Field
	}
	if !valid {
		return bad("field %q is not one of %s.", r.Field, strings.Join(allowed, ", "))
	}
	first, last, ok := strings.Cut(strings.TrimSpace(bounds), "..")
	if !ok {
		return bad("expected FIRST..LAST, got %q.", bounds)
	}
	if strings.HasPrefix(first, "]") {
		r.FirstExclusive, first = true, first[1:]
	}
	r.First, r.Last = strings.TrimSpace(first), strings.TrimSpace(last)
	for _, p := range strings.FieldsFunc(params, func(c rune) bool { return c == ',' || c == ';' }) {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.TrimSpace(k) {
		case "max":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > MaxPageSize {
				return bad("max must be between 1 and %d.", MaxPageSize)
			}
			r.Max = n
		case "order":
			switch strings.TrimSpace(v) {
			case "asc":
				r.Desc = false
			case "desc":
				r.Desc = true
			default:
				return bad("order must be asc or desc.")
			}
		case "":
		default:
			return bad("unknown parameter %q.", k)
		}
	}
	return r, nil
}

// Next returns the Range header value of the page after one that ended
// with the item whose Field value is lastValue.
func (r ListRange) Next(lastValue string) string {
	s := fmt.Sprintf("%s ]%s..%s; max=%d", r.Field, lastValue, r.Last, r.Max)
	if r.Desc {
		s += ", order=desc"
	}
	return s
}
