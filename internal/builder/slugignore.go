package builder

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ignorePattern is one line of a .slugignore.
type ignorePattern struct {
	segs     []string // glob per path segment; "**" spans any number
	anchored bool     // matched against the whole path, else the base name
	dirOnly  bool     // a trailing "/": directories only
}

// parseSlugignore reads .slugignore patterns: one glob per line, `#`
// comments, a pattern containing "/" is anchored at the app's root
// (a leading "/" too), any other matches at any depth. There is no `!`
// negation: such a line is an ordinary pattern, as on Heroku.
func parseSlugignore(data string) []ignorePattern {
	var pats []ignorePattern
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		var p ignorePattern
		if strings.HasSuffix(line, "/") {
			p.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if strings.Contains(line, "/") {
			p.anchored = true
			line = strings.TrimLeft(line, "/")
		}
		if line == "" {
			continue
		}
		for _, s := range strings.Split(line, "/") {
			if s != "" && s != "." {
				p.segs = append(p.segs, s)
			}
		}
		if len(p.segs) > 0 {
			pats = append(pats, p)
		}
	}
	return pats
}

func (p ignorePattern) match(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	parts := strings.Split(rel, "/")
	if !p.anchored {
		parts = parts[len(parts)-1:]
	}
	return matchSegs(p.segs, parts)
}

func matchSegs(pat, parts []string) bool {
	if len(pat) == 0 {
		return len(parts) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if matchSegs(pat[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], parts[0])
	return ok && matchSegs(pat[1:], parts[1:])
}

// applySlugignore removes what the app's .slugignore matches from dir and
// returns how many files and directories it removed.
func applySlugignore(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, ".slugignore"))
	if os.IsNotExist(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	pats := parseSlugignore(string(data))
	if len(pats) == 0 {
		return 0, nil
	}
	removed := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := filepath.ToSlash(p[len(dir)+1:])
		for _, pat := range pats {
			if pat.match(rel, d.IsDir()) {
				removed++
				if err := os.RemoveAll(p); err != nil {
					return err
				}
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		return nil
	})
	return removed, err
}
