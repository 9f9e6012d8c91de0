package builder

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// processTypePattern is what a process type may be called (the formation
// API's rule, with Heroku's 128-character limit).
var processTypePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ParseProcfile parses a Procfile: `type: command` lines, full-line
// comments, blank lines, CRLF line ends and a missing final newline are
// fine; a ` # comment` after a command is dropped (as the shell running it
// would). Any other line is an error naming its line number.
func ParseProcfile(data []byte) (map[string]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	types := map[string]string{}
	lineOf := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		typ, cmd, ok := strings.Cut(line, ":")
		typ = strings.TrimSpace(typ)
		if !ok || typ == "" || strings.ContainsAny(typ, " \t") {
			return nil, fmt.Errorf(`Procfile line %d: expected "type: command", got %q`, n, clip(line))
		}
		if !processTypePattern.MatchString(typ) {
			return nil, fmt.Errorf(`Procfile line %d: invalid process type %q: use letters, digits, "_" and "-" (at most 128)`, n, clip(typ))
		}
		cmd = strings.TrimSpace(stripComment(cmd))
		if cmd == "" {
			return nil, fmt.Errorf("Procfile line %d: process type %q has no command", n, typ)
		}
		if first, dup := lineOf[typ]; dup {
			return nil, fmt.Errorf("Procfile line %d: process type %q is already declared on line %d", n, typ, first)
		}
		types[typ], lineOf[typ] = cmd, n
	}
	return types, nil
}

// stripComment drops a shell comment from a command: a # starting a word
// outside quotes.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++
		case quote == '"':
			if c == '"' {
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

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
