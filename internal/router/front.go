package router

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Front serves the platform's public listener: the router reads every
// connection's requests itself, answers those for apps' hosts, and hands
// a connection whose request is for the platform's hosts (API, dashboard,
// git) to Platform, which serves it from then on.
type Front struct {
	Router   *Router
	Platform *http.Server

	mu       sync.Mutex
	conns    map[*clientConn]struct{}
	listener net.Listener
	handoffs *connListener
	closed   bool
}

// Serve accepts connections on l until Shutdown.
func (f *Front) Serve(l net.Listener) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return http.ErrServerClosed
	}
	f.listener = l
	f.conns = map[*clientConn]struct{}{}
	f.handoffs = newConnListener(l.Addr())
	f.Router.handoff = f.handoffs.push
	f.mu.Unlock()
	platformDone := make(chan struct{})
	go func() {
		defer close(platformDone)
		f.Platform.Serve(f.handoffs)
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			f.mu.Lock()
			closed := f.closed
			f.mu.Unlock()
			if closed {
				<-platformDone
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				f.Platform.Close()
				<-platformDone
				return err
			}
			// Out of file descriptors, or a connection aborted: again,
			// after a while.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		cc := newClientConn(f.Router, c, nil)
		f.mu.Lock()
		f.conns[cc] = struct{}{}
		f.mu.Unlock()
		go func() {
			cc.serve()
			f.mu.Lock()
			delete(f.conns, cc)
			f.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// others to finish their requests (until ctx is done: then closes them).
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	if f.listener != nil {
		f.listener.Close()
	}
	f.mu.Unlock()
	err := f.Platform.Shutdown(ctx)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f.mu.Lock()
		for cc := range f.conns {
			if !cc.active.Load() || ctx.Err() != nil {
				cc.c.Close()
			}
		}
		n := len(f.conns)
		f.mu.Unlock()
		if n == 0 {
			return err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// connListener is the listener of the connections handed to Platform.
type connListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
