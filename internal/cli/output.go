package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// Exit codes.
const (
	exitError       = 1
	exitUsage       = 2
	exitNotLoggedIn = 100 // auth:whoami without valid credentials, as Heroku
	exitInterrupted = 130 // as a shell reports a process ended by SIGINT
)

// Prefixes of Heroku's error and warning lines.
const (
	errorPrefix   = " ›   "
	warningPrefix = " ▸    "
)

// cliError is an error for the user with an optional hint, shown under
// it, and the exit code it ends the process with.
type cliError struct {
	err  error
	hint string
	code int
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// userErrorf is an error for the user: exit status 1.
func userErrorf(format string, args ...any) *cliError {
	return &cliError{err: fmt.Errorf(format, args...), code: exitError}
}

// usageErrorf is a mistake in the command line: exit status 2.
func usageErrorf(format string, args ...any) *cliError {
	return &cliError{err: fmt.Errorf(format, args...), hint: "See more help with --help", code: exitUsage}
}

// withExitCode returns err with exit code code, keeping its hint.
func withExitCode(err error, code int) error {
	var ce *cliError
	if errors.As(err, &ce) {
		return &cliError{err: ce.err, hint: ce.hint, code: code}
	}
	return &cliError{err: err, code: code}
}

// exitStatusError ends the CLI with the exit code of a remote command
// (bulut run), without a message.
type exitStatusError struct{ code int }

func (e *exitStatusError) Error() string {
	return fmt.Sprintf("the command exited with status %d", e.code)
}

var errNotLoggedIn = &cliError{err: errors.New("Not logged in."), hint: "Run bulut login.", code: exitError}

// report prints err, if any, as Heroku does (` ›   Error: MESSAGE`) and
// returns the exit code.
func (inv *invocation) report(err error) int {
	if err == nil {
		return 0
	}
	var status *exitStatusError
	if errors.As(err, &status) {
		if status.code < 1 || status.code > 255 {
			return exitError
		}
		return status.code
	}
	code, hint := exitError, inv.credentialsHint(err)
	var ce *cliError
	if errors.As(err, &ce) {
		code, hint = ce.code, cmp.Or(ce.hint, hint)
	} else if errors.Is(err, context.Canceled) {
		err, code = errors.New("Interrupted."), exitInterrupted
	}
	printPrefixed(inv.env.Stderr, errorPrefix, "Error: "+errorMessage(err))
	if hint != "" {
		printPrefixed(inv.env.Stderr, errorPrefix, hint)
	}
	return code
}

// errorMessage is the message of the API's error when err is one, else
// err's own text.
func errorMessage(err error) string {
	var e *bulut.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// credentialsHint explains an unauthorized error from a command that
// sent the user's token.
func (inv *invocation) credentialsHint(err error) string {
	if bulut.ErrorCode(err) != bulut.EUNAUTHORIZED {
		return ""
	}
	switch inv.tokenSource {
	case "":
		return ""
	case apiKeyVar:
		return "The token in " + apiKeyVar + " was rejected. Check it, or unset it and run bulut login."
	}
	return "Your stored credentials were rejected. Run bulut login."
}

// printPrefixed writes text with prefix in front of each of its lines.
func printPrefixed(w io.Writer, prefix, text string) {
	for line := range strings.SplitSeq(text, "\n") {
		fmt.Fprintln(w, strings.TrimRight(prefix+line, " "))
	}
}

// warn prints a warning on stderr.
func (inv *invocation) warn(text string) {
	printPrefixed(inv.env.Stderr, warningPrefix, text)
}

// action prints `MESSAGE... ` on stderr, runs fn and ends the line with
// `done` (`done, SUFFIX` when fn returns a suffix) or `!` on failure.
func (inv *invocation) action(message string, fn func() (suffix string, err error)) error {
	fmt.Fprintf(inv.env.Stderr, "%s... ", message)
	suffix, err := fn()
	switch {
	case err != nil:
		fmt.Fprintln(inv.env.Stderr, "!")
	case suffix != "":
		fmt.Fprintf(inv.env.Stderr, "done, %s\n", suffix)
	default:
		fmt.Fprintln(inv.env.Stderr, "done")
	}
	return err
}

// println prints data on stdout.
func (inv *invocation) println(args ...any) { fmt.Fprintln(inv.env.Stdout, args...) }

// printf prints data on stdout.
func (inv *invocation) printf(format string, args ...any) {
	fmt.Fprintf(inv.env.Stdout, format, args...)
}

// printHeader prints a Heroku styled header (`=== TITLE` and a blank line).
func (inv *invocation) printHeader(title string) { inv.printf("=== %s\n\n", title) }

// printFields prints label/value pairs with the values aligned, as
// Heroku's styled objects.
func (inv *invocation) printFields(fields [][2]string) {
	width := 0
	for _, f := range fields {
		width = max(width, len(f[0]))
	}
	for _, f := range fields {
		inv.printf("%-*s %s\n", width+1, f[0]+":", f[1])
	}
}

// printJSON prints v as indented JSON on stdout.
func (inv *invocation) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	inv.printf("%s\n", b)
	return nil
}

// appLabel is how an app is named in messages: ⬢ NAME.
func appLabel(name string) string { return "⬢ " + name }
