package router

import (
	"bufio"
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

// pool keeps idle keep-alive connections to dynos, per dyno address.
type pool struct {
	dialer      *net.Dialer
	idleTimeout time.Duration // Heroku's router 2.0: 90 s
	maxIdle     int           // per dyno

	mu   sync.Mutex
	idle map[string][]*backendConn
}

// backendConn is a connection to a dyno.
type backendConn struct {
	timedConn
	addr   string
	br     *bufio.Reader
	idleAt time.Time
}

// checkAfter is how long a connection may sit idle before it is checked
// for a close by the dyno on reuse; a request with a body, which can't be
// replayed, always checks.
const checkAfter = time.Second

// get returns an idle connection to addr that is still open, or a new one.
func (p *pool) get(ctx context.Context, addr string, replayable bool) (bc *backendConn, reused bool, err error) {
	now := time.Now()
	p.mu.Lock()
	for conns := p.idle[addr]; len(conns) > 0; conns = p.idle[addr] {
		bc := conns[len(conns)-1]
		conns[len(conns)-1] = nil
		p.idle[addr] = conns[:len(conns)-1]
		idle := now.Sub(bc.idleAt)
		if idle < p.idleTimeout {
			p.mu.Unlock()
			if replayable && idle < checkAfter || bc.alive() {
				return bc, true, nil
			}
			bc.Close()
			p.mu.Lock()
			continue
		}
		bc.Close()
	}
	p.mu.Unlock()
	bc, err = p.dial(ctx, addr)
	return bc, false, err
}

// dial opens a new connection to addr.
func (p *pool) dial(ctx context.Context, addr string) (*backendConn, error) {
	c, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c = newRawConn(c)
	return &backendConn{timedConn: timedConn{Conn: c}, addr: addr, br: bufio.NewReaderSize(c, 4096)}, nil
}

// put gives a connection whose exchange ended cleanly back to the pool.
func (p *pool) put(bc *backendConn) {
	bc.idleAt = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]*backendConn{}
	}
	if len(p.idle[bc.addr]) >= p.maxIdle {
		bc.Close()
		return
	}
	p.idle[bc.addr] = append(p.idle[bc.addr], bc)
}

// alive peeks at an idle connection: one the dyno closed reads EOF.
func (bc *backendConn) alive() bool {
	bc.noReadDeadline() // a past one would fail the peek
	return peek(bc.Conn) == peekIdle
}

// What a peek at a connection finds.
const (
	peekIdle   = iota // open, nothing to read
	peekData          // open, bytes to read
	peekClosed        // the other side closed it (or it failed)
)

// peek looks at a connection without reading from it or waiting.
func peek(c net.Conn) int { return peekConn(c, false) }

// waitPeek waits until a connection has bytes to read or is closed (or
// its read deadline passes: peekIdle), and tells which, reading nothing.
func waitPeek(c net.Conn) int { return peekConn(c, true) }

func peekConn(c net.Conn, wait bool) int {
	var raw syscall.RawConn
	switch c := c.(type) {
	case *rawConn:
		raw = c.rc
	case syscall.Conn:
		var err error
		if raw, err = c.SyscallConn(); err != nil {
			return peekClosed
		}
	default:
		return peekIdle
	}
	var state int
	var buf [1]byte
	err := raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		state = peekClosed
		switch {
		case n > 0:
			state = peekData
		case n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK):
			state = peekIdle
			return !wait
		}
		return true
	})
	if err != nil {
		if wait && isTimeout(err) {
			return peekIdle
		}
		return peekClosed
	}
	return state
}

// timedConn is a connection that remembers its deadlines, so that a
// window set for every request or read is moved only when it must: a
// deadline within a sixteenth of the window of where it should be stays
// (setting one costs a lock and a timer update in the runtime).
type timedConn struct {
	net.Conn
	readBy, writeBy time.Time
}

func (c *timedConn) readWindow(now time.Time, d time.Duration) {
	if moved(&c.readBy, now.Add(d), d) {
		c.SetReadDeadline(c.readBy)
	}
}

func (c *timedConn) writeWindow(now time.Time, d time.Duration) {
	if moved(&c.writeBy, now.Add(d), d) {
		c.SetWriteDeadline(c.writeBy)
	}
}

// noReadDeadline clears the read deadline.
func (c *timedConn) noReadDeadline() {
	if !c.readBy.IsZero() {
		c.readBy = time.Time{}
		c.SetReadDeadline(time.Time{})
	}
}

func moved(at *time.Time, want time.Time, d time.Duration) bool {
	if diff := at.Sub(want); diff < -d/16 || diff > d/16 || at.IsZero() {
		*at = want
		return true
	}
	return false
}
