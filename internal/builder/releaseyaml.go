package builder

import (
	"fmt"
	"strconv"
	"strings"
)

// parseReleaseYAML reads the default_process_types of a buildpack's
// bin/release output: the small YAML buildpacks print, in block style
//
//	---
//	addons: []
//	default_process_types:
//	  web: npm start
//
// or flow style (`default_process_types: {web: npm start}`), `--- {}` for
// none. Other keys are ignored.
func parseReleaseYAML(out string) (map[string]string, error) {
	types := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		rest, ok := strings.CutPrefix(line, "default_process_types:")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(stripYAMLComment(rest))
		switch {
		case rest == "" || rest == "~" || rest == "null":
			// Block mapping: the indented lines that follow.
			for i++; i < len(lines); i++ {
				l := lines[i]
				t := strings.TrimSpace(l)
				if t == "" || t[0] == '#' {
					continue
				}
				if l[0] != ' ' && l[0] != '\t' {
					i--
					break
				}
				k, v, err := yamlPair(t)
				if err != nil {
					return nil, err
				}
				types[k] = v
			}
		case strings.HasPrefix(rest, "{") && strings.HasSuffix(rest, "}"):
			for _, item := range splitFlow(rest[1 : len(rest)-1]) {
				if strings.TrimSpace(item) == "" {
					continue
				}
				k, v, err := yamlPair(strings.TrimSpace(item))
				if err != nil {
					return nil, err
				}
				types[k] = v
			}
		default:
			return nil, fmt.Errorf("default_process_types is not a map: %q", rest)
		}
	}
	return types, nil
}

// yamlPair parses `key: value` with optionally quoted key and value.
func yamlPair(s string) (string, string, error) {
	k, v, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("expected key: value, got %q", s)
	}
	key, err := yamlScalar(strings.TrimSpace(k))
	if err != nil {
		return "", "", err
	}
	val, err := yamlScalar(strings.TrimSpace(stripYAMLComment(v)))
	if err != nil {
		return "", "", err
	}
	return key, val, nil
}

func yamlScalar(s string) (string, error) {
	switch {
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		return strconv.Unquote(s)
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	}
	return s, nil
}

// stripYAMLComment drops a " #" comment outside quotes.
func stripYAMLComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// splitFlow splits a flow mapping's items at commas outside quotes.
func splitFlow(s string) []string {
	var items []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, s[start:])
}
