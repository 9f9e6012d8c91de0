package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
)

// terminalFD returns the file descriptor of stdin when it is a terminal.
func (inv *invocation) terminalFD() (int, bool) {
	f, ok := inv.env.Stdin.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readLine reads one line of stdin without its line ending. At the end of
// the input it returns what it read, and io.EOF if that is nothing.
func (inv *invocation) readLine() (string, error) {
	line, err := inv.stdin.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	return strings.TrimRight(line, "\r\n"), err
}

// prompt shows label on stderr and reads the answer, a line of stdin,
// without surrounding spaces.
func (inv *invocation) prompt(label string) (string, error) {
	answer, err := inv.promptLine(label)
	return strings.TrimSpace(answer), err
}

// promptLine shows label on stderr and reads a line of stdin as it is.
func (inv *invocation) promptLine(label string) (string, error) {
	fmt.Fprint(inv.env.Stderr, label)
	answer, err := inv.readLine()
	inv.endPromptLine()
	if errors.Is(err, io.EOF) {
		return "", userErrorf("No answer to %q: the input ended.", strings.TrimSpace(label))
	}
	return answer, err
}

// promptPassword is prompt without echo on a terminal.
func (inv *invocation) promptPassword(label string) (string, error) {
	fd, isTerminal := inv.terminalFD()
	if !isTerminal {
		return inv.promptLine(label)
	}
	fmt.Fprint(inv.env.Stderr, label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(inv.env.Stderr)
	return string(b), err
}

// readKey waits for one key press (a raw read on a terminal, else a line
// of stdin) and returns it; "" at the end of the input.
func (inv *invocation) readKey() (string, error) {
	fd, isTerminal := inv.terminalFD()
	if !isTerminal {
		line, err := inv.readLine()
		inv.endPromptLine()
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		return strings.TrimSpace(line), err
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer fmt.Fprintln(inv.env.Stderr)
	defer term.Restore(fd, state)
	b, err := inv.stdin.ReadByte()
	return string(b), err
}

// endPromptLine ends the prompt's line on stderr when the answer came from
// a pipe: a terminal echoed the user's newline already.
func (inv *invocation) endPromptLine() {
	if _, isTerminal := inv.terminalFD(); !isTerminal {
		fmt.Fprintln(inv.env.Stderr)
	}
}
