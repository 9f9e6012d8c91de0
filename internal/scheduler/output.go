package scheduler

import (
	"bytes"
	"sync"

	"github.com/bulut-bulut/bulut"
)

// ringSize is how many lines of output are kept per dyno name.
const ringSize = 500

// maxLineBytes is where long lines are cut, as Logplex does.
const maxLineBytes = 10000

// ring keeps the last ringSize lines written to it.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int // where the next line goes once the ring is full
}

func (r *ring) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < ringSize {
		r.lines = append(r.lines, line)
		return
	}
	r.lines[r.next] = line
	r.next = (r.next + 1) % ringSize
}

// snapshot returns the lines, oldest first.
func (r *ring) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

// lineWriter turns a dyno's output into prefixed lines in a ring: a
// line ends at "\n" (a "\r" before it is dropped), lines longer than
// maxLineBytes are cut into chunks, and Flush writes what is left of an
// unfinished last line.
type lineWriter struct {
	mu     sync.Mutex
	prefix string
	r      *ring
	buf    []byte
	// logs, if set, also gets every line as the app's (appID, process).
	logs           bulut.LogSink
	appID, process string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(bytes.TrimSuffix(w.buf[:i], []byte("\r")))
		w.buf = w.buf[i+1:]
	}
	for len(w.buf) >= maxLineBytes {
		w.add(string(w.buf[:maxLineBytes]))
		w.buf = w.buf[maxLineBytes:]
	}
	if len(w.buf) == 0 {
		w.buf = nil // let a large buffer go
	}
	return len(p), nil
}

func (w *lineWriter) emit(line []byte) {
	for len(line) > maxLineBytes {
		w.add(string(line[:maxLineBytes]))
		line = line[maxLineBytes:]
	}
	w.add(string(line))
}

// add records one line of the app's output.
func (w *lineWriter) add(text string) {
	w.r.add(w.prefix + text)
	if w.logs != nil {
		w.logs.Log(w.appID, bulut.LogLine{Source: bulut.SourceApp, Process: w.process, Text: text})
	}
}

// Flush writes an unfinished last line, if any.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}
