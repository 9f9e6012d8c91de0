package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// buildLog is a running build's log file, which readers follow.
type buildLog struct {
	f *os.File

	mu     sync.Mutex
	size   int64
	done   bool
	notify chan struct{} // closed (and replaced) on every write and at the end
}

func (l *buildLog) Write(p []byte) (int, error) {
	n, err := l.f.Write(p)
	l.mu.Lock()
	l.size += int64(n)
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
	return n, err
}

func (l *buildLog) finish() {
	l.f.Close()
	l.mu.Lock()
	l.done = true
	close(l.notify)
	l.mu.Unlock()
}

func (l *buildLog) state() (int64, bool, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size, l.done, l.notify
}

// follower reads a running build's log, waiting for more until it ends.
type follower struct {
	ctx    context.Context
	log    *buildLog
	f      *os.File
	off    int64
	closed chan struct{}
	once   sync.Once
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		r.off += int64(n)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		size, done, notify := r.log.state()
		if r.off < size {
			continue
		}
		if done {
			return 0, io.EOF
		}
		select {
		case <-notify:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-r.closed:
			return 0, os.ErrClosed
		}
	}
}

func (r *follower) Close() error {
	r.once.Do(func() { close(r.closed) })
	return r.f.Close()
}

// output is what a build writes to: the pusher's stream (until a write to
// it fails: the build goes on) and the build's log.
type output struct {
	mu  sync.Mutex
	out io.Writer
	log *buildLog
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.out != nil {
		if _, err := o.out.Write(p); err != nil {
			o.out = nil
		}
	}
	if o.log != nil {
		o.log.Write(p)
	}
	return len(p), nil
}

// step writes a "-----> " step line.
func (o *output) step(format string, args ...any) {
	fmt.Fprintf(o, "-----> "+format+"\n", args...)
}

// info writes a detail line, indented by 7 spaces.
func (o *output) info(format string, args ...any) {
	fmt.Fprintf(o, "       "+format+"\n", args...)
}

// warn writes a " !     " line.
func (o *output) warn(format string, args ...any) {
	fmt.Fprintf(o, " !     "+format+"\n", args...)
}
