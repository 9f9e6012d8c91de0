package router

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Client connection timeouts (net/http's server had the same).
const (
	keepAliveTimeout = 120 * time.Second // waiting for the next request
	headTimeout      = 10 * time.Second  // reading a request's head
)

// clientConn is a client's connection to the router: its requests are
// read and answered one after the other, with no goroutine but this one.
type clientConn struct {
	rt    *Router
	c     *timedConn
	br    *bufio.Reader
	bw    *bufio.Writer // to the client, held while a request is served
	req   request
	res   head
	log   requestLog // the request's
	out   []byte     // the head being written
	ip    string     // the client's address
	https bool

	appID     string       // the app of the request being served
	touchedAt atomic.Int64 // when the Waker was last told of it (unix ns)
	awake     func()       // keepAwake(false), made once

	active atomic.Bool // serving a request (not waiting for one)
}

func newClientConn(rt *Router, c net.Conn, br *bufio.Reader) *clientConn {
	cc := &clientConn{rt: rt, c: &timedConn{Conn: newRawConn(c)}, br: br}
	if cc.br == nil {
		cc.br = bufio.NewReaderSize(cc.c.Conn, 4096)
	}
	cc.awake = func() { cc.keepAwake(false) }
	cc.ip = c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(cc.ip); err == nil {
		cc.ip = host
	}
	return cc
}

// touchEvery is how often a long response or tunnel tells the Waker its
// app is busy.
const touchEvery = time.Second

// keepAwake tells the Waker that the request's app is in use, at once
// when now is set, else if it wasn't told for touchEvery: an app must not
// fall asleep under a long response or a WebSocket.
func (cc *clientConn) keepAwake(now bool) {
	w := cc.rt.cfg.Waker
	if w == nil || cc.appID == "" {
		return
	}
	t := time.Now().UnixNano()
	if last := cc.touchedAt.Load(); now || t-last >= int64(touchEvery) {
		cc.touchedAt.Store(t)
		w.Touch(cc.appID)
	}
}

// serve answers the connection's requests until it closes, fails, or
// carries a request for the platform's hosts: it is then handed to the
// platform's server (when the router has one) and serve reports true.
func (cc *clientConn) serve() (handedOff bool) {
	defer func() {
		if !handedOff {
			cc.c.Close()
		}
		cc.releaseWriter()
	}()
	for {
		if cc.br.Buffered() == 0 {
			cc.active.Store(false)
			cc.releaseWriter()
			cc.c.readWindow(time.Now(), keepAliveTimeout)
			if _, err := cc.br.Peek(1); err != nil {
				return false
			}
		}
		cc.active.Store(true)
		start := time.Now()
		if !headBuffered(cc.br) {
			cc.c.readWindow(start, headTimeout)
		}
		if err := readHead(cc.br, &cc.req.head, requestLimits); err != nil {
			if err == errHeadTooLong || err == errMalformed {
				cc.bare(http.StatusBadRequest)
			}
			return false
		}
		cc.req.parse()
		part, host := bulut.PartApp, ""
		if cc.req.host != nil {
			part, host = cc.rt.cfg.URLs.Classify(string(cc.req.host))
		}
		if part != bulut.PartApp && cc.rt.handoff != nil {
			cc.releaseWriter()
			cc.c.noReadDeadline()
			cc.rt.handoff(&prefixConn{Conn: cc.c.Conn, r: io.MultiReader(bytes.NewReader(cc.req.buf), cc.br)})
			return true
		}
		if !cc.rt.serveRequest(cc, host, start) {
			return false
		}
	}
}

// headBuffered reports whether a whole head is in br already (it then
// needs no read deadline).
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	return bytes.Contains(b, []byte("\r\n\r\n"))
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8192) }}

// writer returns a buffered writer to w, from the pool.
func writer(w io.Writer) *bufio.Writer {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writers.Put(bw)
}

// clientWriter returns the writer to the client.
func (cc *clientConn) clientWriter() *bufio.Writer {
	if cc.bw == nil {
		cc.bw = writer(cc.c)
	}
	return cc.bw
}

func (cc *clientConn) releaseWriter() {
	if cc.bw != nil {
		putWriter(cc.bw)
		cc.bw = nil
	}
}

// send writes b to the client at once; false if the client is gone.
func (cc *clientConn) send(b []byte) bool {
	bw := cc.clientWriter()
	cc.c.writeWindow(time.Now(), cc.rt.cfg.IdleTimeout)
	if _, err := bw.Write(b); err != nil {
		return false
	}
	return bw.Flush() == nil
}

// bare answers a request that can't be parsed (no app is known).
func (cc *clientConn) bare(status int) {
	b := appendStatusLine(cc.out[:0], status, http.StatusText(status))
	b = append(b, "Content-Length: 0\r\nConnection: close\r\n\r\n"...)
	cc.out = b
	cc.send(b)
}

// page answers with one of the router's pages and reports whether the
// connection can serve another request.
func (cc *clientConn) page(l *requestLog, status int, name string, data any) bool {
	body := pageBuffers.Get().(*bytes.Buffer)
	defer pageBuffers.Put(body)
	body.Reset()
	if err := pages[name].ExecuteTemplate(body, "layout.html", data); err != nil {
		cc.rt.log.Error("render page", "page", name, "error", err)
	}
	b := appendStatusLine(cc.out[:0], status, http.StatusText(status))
	b = append(b, "Content-Type: text/html; charset=utf-8\r\nCache-Control: no-cache, no-store\r\nDate: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(body.Len()), 10)
	b = append(b, "\r\n"...)
	keep := !cc.req.close && !cc.unreadBody()
	if !keep {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	if !equalFold(cc.req.bytes(cc.req.method), "HEAD") {
		b = append(b, body.Bytes()...)
	}
	cc.out = b
	l.sent = status
	return cc.send(b) && keep
}

var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// unreadBody reports whether a request answered without forwarding has a
// body left on the connection: the connection is then closed.
func (cc *clientConn) unreadBody() bool {
	return cc.req.hasBody() && !cc.req.bodyDone
}

// prefixConn is a connection whose first bytes were already read by the
// router: they are read again first.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ServeHTTP serves a request for an app that reached the router through
// net/http's server (a connection that began with requests for the
// platform): the connection is taken over and the request served as if
// read by the router.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		rt.log.Error("take over connection", "error", err)
		http.Error(w, "router: connection can't be taken over", http.StatusInternalServerError)
		return
	}
	c.SetDeadline(time.Time{})
	var head bytes.Buffer
	head.WriteString(r.Method + " " + r.RequestURI + " " + r.Proto + "\r\nHost: " + r.Host + "\r\n")
	if len(r.TransferEncoding) > 0 {
		head.WriteString("Transfer-Encoding: " + r.TransferEncoding[len(r.TransferEncoding)-1] + "\r\n")
		r.Header.Del("Content-Length")
	}
	r.Header.Write(&head)
	head.WriteString("\r\n")
	newClientConn(rt, c, bufio.NewReaderSize(io.MultiReader(&head, brw.Reader), 4096)).serve()
}

// watch watches the client's connection while the router waits on its
// behalf (a wake, a boot, a slow dyno): when the client closes it, gone
// is called (from another goroutine). stop ends the watch and reports
// whether the client left. A client that sends more bytes (a pipelined
// request) ends the watch: it is not gone.
func (cc *clientConn) watch(gone func()) (stop func() bool) {
	if cc.br.Buffered() > 0 {
		return func() bool { return false }
	}
	cc.c.noReadDeadline()
	left := make(chan bool, 1)
	go func() {
		closed := waitPeek(cc.c.Conn) == peekClosed
		if closed {
			gone()
		}
		left <- closed
	}()
	return func() bool {
		cc.c.SetReadDeadline(time.Unix(1, 0)) // ends the peek's wait
		closed := <-left
		cc.c.SetReadDeadline(time.Time{})
		return closed
	}
}
