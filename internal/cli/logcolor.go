package cli

import (
	"regexp"
	"strconv"
	"strings"
)

// Colours of `logs` on a terminal, after Heroku's CLI (colorize.ts): the
// time dimmed, SOURCE[DYNO]: in a colour of its own per dyno (the
// router's dyno= field in the same one), router fields coloured by
// meaning (status class, timings, errors), dyno states and exit codes,
// and the API's releases and deploys.

// ansi is an SGR parameter string ("1;36").
type ansi string

const (
	ansiDim          ansi = "2"
	ansiRed          ansi = "31"
	ansiGreen        ansi = "32"
	ansiYellow       ansi = "33"
	ansiMagenta      ansi = "35"
	ansiCyan         ansi = "36"
	ansiBoldRed      ansi = "1;31"
	ansiBoldMagenta  ansi = "1;35"
	ansiBoldCyan     ansi = "1;36"
	ansiBrightGreen  ansi = "92"
	ansiBrightYellow ansi = "93"
)

// dynoPalette is given out to dynos in the order they first appear.
var dynoPalette = []ansi{"33", "32", "36", "35", "34", "1;32", "1;36", "1;35", "1;33", "1;34"}

func (a ansi) paint(s string) string {
	if s == "" {
		return s
	}
	return "\x1b[" + string(a) + "m" + s + "\x1b[0m"
}

// logColorizer colours log lines; a nil one leaves them alone.
type logColorizer struct {
	dynos map[string]ansi
}

// newLogColorizer returns a colorizer when stdout is a terminal (and
// NO_COLOR is unset), or when forced; else nil.
func (inv *invocation) newLogColorizer(force bool) *logColorizer {
	if !force {
		if _, ok := inv.stdoutTerminal(); !ok || inv.env.Getenv("NO_COLOR") != "" {
			return nil
		}
	}
	return &logColorizer{dynos: map[string]ansi{}}
}

// logLinePattern splits `TIME SOURCE[PROCESS]: TEXT`.
var logLinePattern = regexp.MustCompile(`^(\S+) ([\w-]+)\[([\w.-]+)\]:(?: (.*))?$`)

// line returns a log line coloured.
func (c *logColorizer) line(s string) string {
	if c == nil {
		return s
	}
	m := logLinePattern.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	when, source, process, text := m[1], m[2], m[3], m[4]
	header := ansiDim.paint(when) + " " + c.dyno(process).paint(source+"["+process+"]:")
	var body string
	switch {
	case process == "router" && source != "app":
		body = c.router(text)
	case process == "api":
		body = colorAPI(text)
	case source != "app":
		body = colorPlatform(text)
	default:
		body = text
	}
	if text == "" {
		return header
	}
	return header + " " + body
}

// dyno returns a process's colour, giving it the next one the first time.
func (c *logColorizer) dyno(process string) ansi {
	a, ok := c.dynos[process]
	if !ok {
		a = dynoPalette[len(c.dynos)%len(dynoPalette)]
		c.dynos[process] = a
	}
	return a
}

// router colours the key=value fields of a router line.
func (c *logColorizer) router(text string) string {
	tokens := strings.Split(text, " ")
	for i, tok := range tokens {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			tokens[i] = ansiDim.paint(tok)
			continue
		}
		switch k {
		case "at":
			if v == "error" {
				v = ansiRed.paint(v)
			} else {
				v = ansiDim.paint(v)
			}
		case "code":
			v = ansiBoldRed.paint(v)
		case "method":
			v = ansiBoldMagenta.paint(v)
		case "path":
			v = ansiGreen.paint(v)
		case "dyno":
			v = c.dyno(v).paint(v)
		case "status":
			v = statusColor(v).paint(v)
		case "connect", "service":
			v = durationColor(v).paint(v)
		}
		tokens[i] = ansiDim.paint(k+"=") + v
	}
	return strings.Join(tokens, " ")
}

func statusColor(code string) ansi {
	switch {
	case len(code) != 3:
		return ""
	case code[0] == '2':
		return ansiGreen
	case code[0] == '3':
		return ansiCyan
	case code[0] == '4':
		return ansiYellow
	case code[0] == '5':
		return ansiRed
	}
	return ""
}

func durationColor(v string) ansi {
	ms, err := strconv.Atoi(strings.TrimSuffix(v, "ms"))
	switch {
	case err != nil:
		return ""
	case ms < 100:
		return ansiBrightGreen
	case ms < 500:
		return ansiGreen
	case ms < 5000:
		return ansiYellow
	case ms < 10000:
		return ansiBrightYellow
	}
	return ansiRed
}

var (
	stateChangedPattern = regexp.MustCompile("^(State changed from )(\\w+)( to )(\\w+)(.*)$")
	startingPattern     = regexp.MustCompile("^(Starting process with command )(`.*`)(.*)$")
	exitedPattern       = regexp.MustCompile(`^(Process exited with status )(-?\d+)(.*)$`)
	platformErrPattern  = regexp.MustCompile(`^(Error )?[RLH]\d\d\b`)
	byUserPattern       = regexp.MustCompile(`^(.* by (?:user )?)(\S+@\S+)$`)
	releasePattern      = regexp.MustCompile(`^(Release )(v\d+)( .*)$`)
	deployPattern       = regexp.MustCompile(`^(Deploy )([0-9a-f]+)( .*)$`)
)

// colorPlatform colours the platform's lines about a dyno.
func colorPlatform(text string) string {
	if m := stateChangedPattern.FindStringSubmatch(text); m != nil {
		return m[1] + stateColor(m[2]).paint(m[2]) + m[3] + stateColor(m[4]).paint(m[4]) + m[5]
	}
	if m := startingPattern.FindStringSubmatch(text); m != nil {
		return m[1] + ansiBoldCyan.paint(m[2]) + m[3]
	}
	if m := exitedPattern.FindStringSubmatch(text); m != nil {
		code := ansiRed
		if m[2] == "0" {
			code = ansiBrightGreen
		}
		return m[1] + code.paint(m[2]) + m[3]
	}
	switch {
	case text == "Stopping all processes with SIGTERM", text == "Stopping all processes with SIGKILL",
		platformErrPattern.MatchString(text):
		return ansiRed.paint(text)
	case text == "Restarting", text == "Cycling", text == "Unidling", strings.HasPrefix(text, "Stopping process"):
		return ansiYellow.paint(text)
	}
	return text
}

func stateColor(s string) ansi {
	switch s {
	case "down", "crashed":
		return ansiRed
	case "up", "complete":
		return ansiBrightGreen
	case "starting":
		return ansiBrightYellow
	}
	return ""
}

// colorAPI colours app[api] lines: releases, deploys, who did what.
func colorAPI(text string) string {
	user := ""
	if m := byUserPattern.FindStringSubmatch(text); m != nil {
		text, user = m[1], ansiGreen.paint(m[2])
	}
	if m := releasePattern.FindStringSubmatch(text); m != nil {
		text = m[1] + ansiMagenta.paint(m[2]) + m[3]
	} else if m := deployPattern.FindStringSubmatch(text); m != nil {
		text = m[1] + ansiCyan.paint(m[2]) + m[3]
	} else if m := startingPattern.FindStringSubmatch(text); m != nil {
		text = m[1] + ansiBoldCyan.paint(m[2]) + m[3]
	}
	return text + user
}
