package api

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/bulut-bulut/bulut"
)

// configVarsJSON is a config var map as the API shows it: an object,
// never null.
func configVarsJSON(vars map[string]string) map[string]string {
	if vars == nil {
		return map[string]string{}
	}
	return vars
}

func (h *Handler) configVars(w http.ResponseWriter, r *http.Request) error {
	vars, err := h.cfg.ConfigVars.FindConfigVars(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, configVarsJSON(vars))
	return nil
}

// updateConfigVars is PATCH /apps/{app}/config-vars: {"K":"v"} sets,
// {"K":null} unsets, and the answer is the whole new map.
func (h *Handler) updateConfigVars(w http.ResponseWriter, r *http.Request) error {
	var raw map[string]json.RawMessage
	if err := decodeJSON(r, &raw); err != nil {
		return err
	}
	patch, err := parseConfigPatch(raw)
	if err != nil {
		return err
	}
	vars, _, err := h.cfg.ConfigVars.UpdateConfigVars(r.Context(), r.PathValue("app"), patch)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, configVarsJSON(vars))
	return nil
}

// parseConfigPatch checks a config var patch: valid keys, and values that
// are strings or null. Keys are checked in order, so the error names the
// first bad one.
func parseConfigPatch(raw map[string]json.RawMessage) (map[string]*string, error) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	patch := make(map[string]*string, len(raw))
	for _, k := range keys {
		if err := bulut.ValidateConfigVarKey(k); err != nil {
			return nil, err
		}
		v := raw[k]
		if string(v) == "null" {
			patch[k] = nil
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &bulut.Error{Code: bulut.EINVALID, Resource: "config_var",
				Message: "Invalid value for config var " + k + ": values must be strings (or null to unset), not " + jsonKind(v) + "."}
		}
		patch[k] = &s
	}
	return patch, nil
}

// jsonKind names the type of a JSON value for error messages.
func jsonKind(v json.RawMessage) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	}
	return "a number"
}
