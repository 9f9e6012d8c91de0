package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"
)

// transport is a lean HTTP/1.1 client to dynos: a pool of idle keep-alive
// connections per backend and no goroutine per connection (net/http's
// Transport runs two), which is what the router's throughput depends on.
// It honours the request's context (closing the connection) and the
// ClientTrace hooks the proxy uses.
type transport struct {
	dialer      *net.Dialer
	idleTimeout time.Duration
	maxIdle     int // per backend

	mu   sync.Mutex
	idle map[string][]*backendConn
}

type backendConn struct {
	net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	replayable := req.Body == nil || req.Body == http.NoBody
	for {
		bc, reused, err := t.conn(ctx, req.URL.Host)
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		if trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: bc.Conn, Reused: reused})
		}
		res, gotBytes, err := t.exchange(ctx, bc, req, trace)
		if err != nil && reused && !gotBytes && replayable && ctx.Err() == nil {
			continue // a kept-alive connection the dyno had closed
		}
		return res, err
	}
}

// conn returns an idle connection to addr that is still open, or a new one.
func (t *transport) conn(ctx context.Context, addr string) (*backendConn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for conns := t.idle[addr]; len(conns) > 0; conns = t.idle[addr] {
		bc := conns[len(conns)-1]
		t.idle[addr] = conns[:len(conns)-1]
		if now.Sub(bc.idleAt) < t.idleTimeout && alive(bc.Conn) {
			t.mu.Unlock()
			return bc, true, nil
		}
		bc.Close()
	}
	t.mu.Unlock()
	c, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &backendConn{Conn: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}, false, nil
}

// alive peeks at an idle connection: one the dyno closed reads EOF.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK) // nothing to read: open and idle
		return true
	})
	return err == nil && ok
}

func (t *transport) put(addr string, bc *backendConn) {
	bc.idleAt = time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = map[string][]*backendConn{}
	}
	if len(t.idle[addr]) >= t.maxIdle {
		bc.Close()
		return
	}
	t.idle[addr] = append(t.idle[addr], bc)
}

// exchange writes the request and reads the response head on bc.
func (t *transport) exchange(ctx context.Context, bc *backendConn, req *http.Request, trace *httptrace.ClientTrace) (res *http.Response, gotBytes bool, err error) {
	stop := context.AfterFunc(ctx, func() { bc.Close() })
	fail := func(err error) (*http.Response, bool, error) {
		stop()
		bc.Close()
		if ctx.Err() != nil {
			return nil, gotBytes, ctx.Err()
		}
		return nil, gotBytes, err
	}
	if err := req.Write(bc.bw); err != nil {
		return fail(err)
	}
	if err := bc.bw.Flush(); err != nil {
		return fail(err)
	}
	if _, err := bc.br.Peek(1); err != nil {
		return fail(err)
	}
	gotBytes = true
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	for {
		res, err = http.ReadResponse(bc.br, req)
		if err != nil {
			return fail(err)
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(res.StatusCode, textproto.MIMEHeader(res.Header)); err != nil {
				return fail(err)
			}
		}
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		stop()
		res.Body = &upgradedConn{Reader: bc.br, Conn: bc.Conn}
		return res, true, nil
	}
	res.Body = &responseBody{body: res.Body, t: t, bc: bc, addr: req.URL.Host, stop: stop,
		reusable: !res.Close && !req.Close}
	return res, true, nil
}

// responseBody gives the connection back to the pool once the response
// was read to its end, or closes it.
type responseBody struct {
	body     io.ReadCloser
	t        *transport
	bc       *backendConn
	addr     string
	stop     func() bool
	reusable bool
	done     bool
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if errors.Is(err, io.EOF) {
		b.release(true)
	}
	return n, err
}

func (b *responseBody) Close() error {
	b.release(false)
	return nil
}

func (b *responseBody) release(complete bool) {
	if b.done {
		return
	}
	b.done = true
	if b.stop() && complete && b.reusable {
		b.body.Close()
		b.t.put(b.addr, b.bc)
		return
	}
	b.bc.Close()
}

// upgradedConn is the body of a 101 response: the connection itself, for
// the proxy to copy both ways.
type upgradedConn struct {
	io.Reader
	net.Conn
}

func (u *upgradedConn) Read(p []byte) (int, error) { return u.Reader.Read(p) }
