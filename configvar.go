package bulut

import (
	"context"
	"regexp"
	"sort"
	"strings"
)

// MaxConfigVarsSize caps the total size of an app's config var keys and
// values, as Heroku's 32 KB.
const MaxConfigVarsSize = 32 << 10

var configVarKeyPattern = regexp.MustCompile(`^\w+$`)

// ValidateConfigVarKey returns an EINVALID error when key can't name a
// config var.
func ValidateConfigVarKey(key string) error {
	if !configVarKeyPattern.MatchString(key) {
		return &Error{Code: EINVALID, Resource: "config_var", Message: "Invalid config var name " + quote(key) + ": names may contain only letters, digits and underscores."}
	}
	return nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}

// ConfigVarsSize is the total size of the keys and values of vars.
func ConfigVarsSize(vars map[string]string) int {
	n := 0
	for k, v := range vars {
		n += len(k) + len(v)
	}
	return n
}

// ApplyConfigPatch returns vars with a patch applied (a nil value unsets),
// checking keys and the total size, and a release description such as
// "Set A, B config vars" or "Remove C config vars". vars is not changed.
func ApplyConfigPatch(vars map[string]string, patch map[string]*string) (map[string]string, string, error) {
	out := make(map[string]string, len(vars)+len(patch))
	for k, v := range vars {
		out[k] = v
	}
	var set, removed []string
	for k, v := range patch {
		if err := ValidateConfigVarKey(k); err != nil {
			return nil, "", err
		}
		if v == nil {
			delete(out, k)
			removed = append(removed, k)
		} else {
			out[k] = *v
			set = append(set, k)
		}
	}
	if size := ConfigVarsSize(out); size > MaxConfigVarsSize {
		return nil, "", Errorf(EINVALID, "Config vars would take %d bytes; the limit is %d bytes (32 KB) of keys and values per app.", size, MaxConfigVarsSize)
	}
	sort.Strings(set)
	sort.Strings(removed)
	var parts []string
	if len(set) > 0 {
		parts = append(parts, "Set "+strings.Join(set, ", ")+" config vars")
	}
	if len(removed) > 0 {
		parts = append(parts, "Remove "+strings.Join(removed, ", ")+" config vars")
	}
	return out, strings.Join(parts, " and "), nil
}

// ConfigVarService manages apps' config vars. Apps are named by ID or name
// and scoped to the context's account as in AppService.
type ConfigVarService interface {
	// FindConfigVars returns an app's current config vars.
	FindConfigVars(ctx context.Context, app string) (map[string]string, error)

	// UpdateConfigVars applies a patch (nil unsets) and makes a release
	// with the new config and the current slug. EINVALID for a bad key or
	// a total over MaxConfigVarsSize, with nothing changed. An empty patch
	// changes nothing and returns no release.
	UpdateConfigVars(ctx context.Context, app string, patch map[string]*string) (map[string]string, *Release, error)
}
