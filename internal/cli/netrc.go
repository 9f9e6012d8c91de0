package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// netrc is a .netrc file. Entries it is not asked to change keep their
// text exactly, comments and macros included.
type netrc struct {
	preamble string // text before the first entry
	entries  []*netrcEntry
}

// netrcEntry is one `machine` (or `default`) entry.
type netrcEntry struct {
	machine  string // "" for the default entry
	login    string
	password string
	text     string // the entry's text, from its keyword to the next entry
}

// readNetrc reads the file at path; a missing file is an empty netrc.
func readNetrc(path string) (*netrc, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &netrc{}, nil
	} else if err != nil {
		return nil, err
	}
	return parseNetrc(string(b)), nil
}

// parseNetrc parses netrc text. It is lenient: what it doesn't understand
// stays in the text of the entry it appears in.
func parseNetrc(text string) *netrc {
	n := &netrc{}
	var starts []int // offset of each entry's first token
	tokens := tokenizeNetrc(text)
	for i := 0; i < len(tokens); i++ {
		valueAfter := func() string {
			if i+1 < len(tokens) {
				i++
				return tokens[i].value
			}
			return ""
		}
		switch tok := tokens[i]; tok.value {
		case "machine", "default":
			e := &netrcEntry{}
			if tok.value == "machine" {
				e.machine = valueAfter()
			}
			starts = append(starts, tok.start)
			n.entries = append(n.entries, e)
		case "login":
			n.current().login = valueAfter()
		case "password":
			n.current().password = valueAfter()
		case "account":
			valueAfter()
		}
	}
	n.splitText(text, starts)
	return n
}

// current is the entry being parsed (a throwaway one before the first).
func (n *netrc) current() *netrcEntry {
	if len(n.entries) == 0 {
		return &netrcEntry{}
	}
	return n.entries[len(n.entries)-1]
}

// splitText cuts text into the preamble and the text of each entry, given
// the offsets where entries start.
func (n *netrc) splitText(text string, starts []int) {
	n.preamble = text
	for i, e := range n.entries {
		if i == 0 {
			n.preamble = text[:starts[0]]
		}
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		e.text = text[starts[i]:end]
	}
}

type netrcToken struct {
	value string
	start int // byte offset in the text
}

// tokenizeNetrc splits netrc text into tokens: words separated by white
// space, "quoted strings" with backslash escapes, skipping # comments and
// the bodies of macdef macros (up to the next empty line).
func tokenizeNetrc(text string) []netrcToken {
	var tokens []netrcToken
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '#':
			i = indexFrom(text, i, "\n")
		default:
			tok, end := readNetrcToken(text, i)
			tokens = append(tokens, tok)
			i = end
			if n := len(tokens); n >= 2 && tokens[n-2].value == "macdef" {
				i = indexFrom(text, i, "\n\n")
			}
		}
	}
	return tokens
}

// readNetrcToken reads the token starting at text[start].
func readNetrcToken(text string, start int) (netrcToken, int) {
	if text[start] != '"' {
		end := start
		for end < len(text) && !unicode.IsSpace(rune(text[end])) {
			end++
		}
		return netrcToken{value: text[start:end], start: start}, end
	}
	var b strings.Builder
	i := start + 1
	for ; i < len(text) && text[i] != '"'; i++ {
		if text[i] == '\\' && i+1 < len(text) {
			i++
		}
		b.WriteByte(text[i])
	}
	return netrcToken{value: b.String(), start: start}, min(i+1, len(text))
}

// indexFrom returns the index of sep in text at or after from, or
// len(text) if there is none.
func indexFrom(text string, from int, sep string) int {
	if i := strings.Index(text[from:], sep); i >= 0 {
		return from + i
	}
	return len(text)
}

// lookup returns the entry of machine host, or nil.
func (n *netrc) lookup(host string) *netrcEntry {
	for _, e := range n.entries {
		if e.machine != "" && strings.EqualFold(e.machine, host) {
			return e
		}
	}
	return nil
}

// set stores login and password for machine host, in place of its old
// entries (or before the default entry, which must come last).
func (n *netrc) set(host, login, password string) {
	e := &netrcEntry{machine: host, login: login, password: password,
		text: "machine " + host + "\n  login " + login + "\n  password " + password + "\n"}
	if old := n.lookup(host); old != nil {
		*old = *e
		n.remove(func(x *netrcEntry) bool { return x != old && strings.EqualFold(x.machine, host) })
		return
	}
	at := len(n.entries)
	if at > 0 && n.entries[at-1].machine == "" {
		at--
	}
	n.entries = append(n.entries[:at], append([]*netrcEntry{e}, n.entries[at:]...)...)
}

// remove drops the entries for which drop returns true.
func (n *netrc) remove(drop func(*netrcEntry) bool) {
	kept := n.entries[:0]
	for _, e := range n.entries {
		if !drop(e) {
			kept = append(kept, e)
		}
	}
	n.entries = kept
}

// String is the file's text.
func (n *netrc) String() string {
	var b strings.Builder
	b.WriteString(n.preamble)
	for _, e := range n.entries {
		if s := b.String(); s != "" && !unicode.IsSpace(rune(s[len(s)-1])) {
			b.WriteByte('\n')
		}
		b.WriteString(e.text)
	}
	return b.String()
}

// save writes the file readable by its owner only, replacing it at once so
// that a crash never leaves half a file.
func (n *netrc) save(path string) error {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".netrc-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(n.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
