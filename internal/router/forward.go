package router

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Heroku's response limit on a Set-Cookie header (502 and H25 beyond).
const maxSetCookie = 8192

// forward proxies the request to one of the route's dynos, trying others
// (Heroku: at most 10 attempts) when a dyno refuses or times out the
// connection; those are skipped for Config.Quarantine. It reports whether
// the client connection can serve another request.
func (rt *Router) forward(cc *clientConn, l *requestLog, appID string) bool {
	deadline := l.start.Add(rt.cfg.BootTimeout)
	backoff := 10 * time.Millisecond
	replayable := !cc.req.hasBody()
	var dialCode string
	for attempts := 0; ; {
		route := rt.route(appID)
		if len(route.Backends) == 0 {
			l.fail(codeNoWeb, http.StatusServiceUnavailable)
			if route.Crashed {
				l.fail(codeAppCrashed, http.StatusServiceUnavailable)
			}
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
		}
		i := rt.pick(route.Backends)
		if i < 0 {
			// Every dyno is quarantined: look again with a backoff, up to
			// the connect budget (Heroku: 75 s, then H99).
			if time.Now().Add(backoff).After(deadline) {
				l.fail(codePlatform, http.StatusServiceUnavailable)
				return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backend := route.Backends[i]
		l.dyno = ""
		if i < len(route.Dynos) {
			l.dyno = route.Dynos[i]
		}
		bc, reused, err := rt.pool.get(context.Background(), backend, replayable)
		if err != nil {
			rt.quarantine(backend)
			dialCode = codeConnectTimeout
			if errors.Is(err, syscall.ECONNREFUSED) {
				dialCode = codeRefused
			}
			if attempts++; attempts >= min(10, len(route.Backends)) {
				l.fail(dialCode, http.StatusServiceUnavailable)
				return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
			}
			continue
		}
		l.connect = time.Since(l.start)
		keep, stale := cc.exchange(bc, l, reused && replayable)
		if !stale {
			return keep
		}
		// A kept-alive connection the dyno had closed: once more on a
		// new one.
		if bc, err = rt.pool.dial(context.Background(), backend); err == nil {
			keep, _ = cc.exchange(bc, l, false)
			return keep
		}
		l.fail(codeBackend, http.StatusServiceUnavailable)
		return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
	}
}

// pick returns the index of a random backend not in quarantine, or -1.
func (rt *Router) pick(backends []string) int {
	i := rand.IntN(len(backends))
	if rt.nq.Load() == 0 {
		return i
	}
	now := time.Now()
	rt.qmu.Lock()
	defer rt.qmu.Unlock()
	for range backends {
		until, ok := rt.quarantined[backends[i]]
		if !ok {
			return i
		}
		if now.After(until) {
			delete(rt.quarantined, backends[i])
			rt.nq.Store(int32(len(rt.quarantined)))
			return i
		}
		i = (i + 1) % len(backends)
	}
	return -1
}

func (rt *Router) quarantine(backend string) {
	rt.qmu.Lock()
	defer rt.qmu.Unlock()
	if rt.quarantined == nil {
		rt.quarantined = map[string]time.Time{}
	}
	rt.quarantined[backend] = time.Now().Add(rt.cfg.Quarantine)
	rt.nq.Store(int32(len(rt.quarantined)))
}

// exchange sends the request to a dyno and its response to the client.
// It reports whether the client connection can serve another request,
// and stale when a reused connection turned out closed before anything
// was sent back (the request can then be sent again: it has no body).
func (cc *clientConn) exchange(bc *backendConn, l *requestLog, mayBeStale bool) (keep, stale bool) {
	rt := cc.rt
	req := &cc.req
	done := false
	defer func() {
		if !done {
			bc.Close()
		}
	}()

	// The request: its head as received, less the hop-by-hop headers,
	// plus Heroku's.
	b := cc.out[:0]
	b = append(b, req.bytes(req.method)...)
	b = append(b, ' ')
	b = append(b, req.bytes(req.target)...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.host...)
	b = append(b, "\r\n"...)
	for _, f := range req.fields {
		name := req.bytes(f.name)
		if replaced(name) || hopByHop(name, req.connTokens) {
			continue
		}
		b = append(b, req.buf[f.name.start:f.value.end]...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "X-Forwarded-For: "...)
	if req.xff != nil {
		b = append(b, req.xff...)
		b = append(b, ", "...)
	}
	b = append(b, cc.ip...)
	if cc.https {
		b = append(b, "\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: "...)
	} else {
		b = append(b, "\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: "...)
	}
	b = append(b, forwardedPort(req.host, cc.https)...)
	b = append(b, "\r\nX-Request-Start: "...)
	b = strconv.AppendInt(b, l.start.UnixMilli(), 10)
	b = append(b, "\r\nX-Request-Id: "...)
	b = append(b, l.requestID...)
	b = append(b, "\r\nVia: "...)
	b = appendVia(b, req.via)
	b = append(b, "\r\n"...)
	switch {
	case req.chunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	case req.contentLength >= 0:
		b = appendLength(b, req.contentLength)
	}
	if req.upgrade {
		up, _ := req.get("upgrade")
		b = append(b, "Connection: Upgrade\r\n"...)
		b = appendField(b, "Upgrade", up)
	}
	b = append(b, "\r\n"...)
	cc.out = b

	if !req.hasBody() {
		req.bodyDone = true
		bc.writeWindow(time.Now(), rt.cfg.IdleTimeout)
		if _, err := bc.Write(b); err != nil {
			if mayBeStale {
				return false, true
			}
			l.fail(codeBackend, http.StatusServiceUnavailable)
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil), false
		}
	} else if ok, keep := cc.sendBody(bc, l); !ok {
		return keep, false
	}

	// The response head: the dyno has RequestTimeout to start it.
	sent := time.Now()
	if cc.awaitFirstByte(bc, sent) {
		l.clientGone()
		return false, false
	}
	if !headBuffered(bc.br) {
		bc.readWindow(sent, rt.cfg.RequestTimeout)
	}
	var status int
	for {
		err := readHead(bc.br, &cc.res, responseLimits)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				l.fail(codeTimeout, http.StatusServiceUnavailable)
				l.service = rt.cfg.RequestTimeout
			case len(cc.res.buf) == 0 && mayBeStale:
				return false, true
			case err == errHeadTooLong:
				l.fail(codeRestriction, http.StatusBadGateway)
				return cc.page(l, http.StatusBadGateway, "gateway-error", nil), false
			case err == errMalformed:
				l.fail(codeBadResponse, http.StatusServiceUnavailable)
			case req.hasBody():
				l.fail(codeInterrupted, http.StatusServiceUnavailable)
				l.sock = "backend"
			default:
				l.fail(codeBackend, http.StatusServiceUnavailable)
			}
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil), false
		}
		var ok bool
		if status, ok = parseStatusLine(cc.res.bytes(cc.res.line)); !ok {
			l.fail(codeBadResponse, http.StatusServiceUnavailable)
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil), false
		}
		if status >= 200 || status == http.StatusSwitchingProtocols {
			break
		}
		// 1xx: 100 Continue was the router's to send; others (103
		// Early Hints...) go to the client as they are.
		if status != http.StatusContinue && !req.http10 && !cc.send(cc.res.buf) {
			l.clientGone()
			return false, false
		}
	}
	// A client that left while a slow response was on its way: H27 (a
	// write to its socket would still succeed).
	if time.Since(l.start) > slowResponse && cc.br.Buffered() == 0 && cc.clientGone() {
		l.clientGone()
		return false, false
	}
	return cc.sendResponse(bc, l, status, &done), false
}

// watchAfter is how long the router waits for a dyno's first byte before
// it watches the client's connection meanwhile.
const watchAfter = time.Second

// awaitFirstByte waits for the dyno's first response byte (or a failure,
// for readHead to tell). Past watchAfter, the client's connection is
// watched meanwhile: a client that leaves closes the dyno's connection,
// as Heroku's router does, and awaitFirstByte reports it.
func (cc *clientConn) awaitFirstByte(bc *backendConn, sent time.Time) (clientLeft bool) {
	timeout := cc.rt.cfg.RequestTimeout
	if timeout <= watchAfter {
		bc.readWindow(sent, timeout)
		return false
	}
	bc.readWindow(sent, watchAfter)
	if _, err := bc.br.Peek(1); err == nil || !isTimeout(err) {
		return false
	}
	stop := cc.watch(func() { bc.Close() })
	bc.readBy = sent.Add(timeout)
	bc.SetReadDeadline(bc.readBy)
	bc.br.Peek(1)
	return stop()
}

// slowResponse is how long a response may take before the router checks
// that its client is still there.
const slowResponse = 50 * time.Millisecond

// clientGone reports whether the client closed its connection.
func (cc *clientConn) clientGone() bool {
	cc.c.noReadDeadline()
	return peek(cc.c.Conn) == peekClosed
}

// sendBody sends the request's body to the dyno, after 100 Continue when
// the client waits for it. ok is false when the exchange ended there (its
// answer sent); keep then tells whether the client connection lives on.
func (cc *clientConn) sendBody(bc *backendConn, l *requestLog) (ok, keep bool) {
	req := &cc.req
	if req.expectContinue() && !cc.send(continueLine) {
		l.clientGone()
		return false, false
	}
	bw := writer(bc)
	defer putWriter(bw)
	bw.Write(cc.out)
	p := pipe{src: cc.br, srcConn: cc.c, dst: bw, dstConn: &bc.timedConn, idle: cc.rt.cfg.IdleTimeout, waiting: cc.awake}
	if req.chunked {
		ok = p.copyChunked(false)
	} else {
		ok = p.copyLength(req.contentLength)
	}
	ok = ok && p.flush()
	if ok {
		req.bodyDone = true
		return true, false
	}
	switch {
	case p.srcErr == errBadChunk:
		l.fail(codeRequestError, http.StatusBadRequest)
		l.cause = "bad chunk"
		cc.page(l, http.StatusBadRequest, "bad-request", nil)
		return false, false
	case p.srcErr != nil && isTimeout(p.srcErr):
		l.fail(codeClientIdle, 499)
		return false, false
	case p.srcErr != nil:
		l.clientGone()
		return false, false
	case p.n > 0:
		l.fail(codeInterrupted, http.StatusServiceUnavailable)
		l.sock = "backend"
	default:
		l.fail(codeBackend, http.StatusServiceUnavailable)
	}
	cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
	return false, false
}

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// sendResponse sends the dyno's response, read up to its status line, to
// the client. The connection to the dyno goes back to the pool (*done)
// when its exchange ended cleanly.
func (cc *clientConn) sendResponse(bc *backendConn, l *requestLog, status int, done *bool) bool {
	req, res := &cc.req, &cc.res
	length, chunked, closing := int64(-1), false, false
	var via, connTokens []byte
	for _, f := range res.fields {
		name, value := res.bytes(f.name), res.bytes(f.value)
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseContentLength(value)
			if !ok || length >= 0 && n != length {
				res.tooLarge = true // a bad length: Heroku's H25
			}
			length = n
		case equalFold(name, "transfer-encoding"):
			chunked = lastToken(value, "chunked")
			closing = closing || !chunked
		case equalFold(name, "connection"):
			closing = closing || hasToken(value, "close")
			connTokens = value
		case equalFold(name, "via"):
			via = joinValues(via, value)
		case equalFold(name, "set-cookie"):
			if len(value) > maxSetCookie {
				res.tooLarge = true
			}
		}
	}
	if res.tooLarge {
		l.fail(codeRestriction, http.StatusBadGateway)
		return cc.page(l, http.StatusBadGateway, "gateway-error", nil)
	}
	upgraded := status == http.StatusSwitchingProtocols && req.upgrade
	noBody := status < 200 || status == http.StatusNoContent || status == http.StatusNotModified ||
		equalFold(req.bytes(req.method), "HEAD")
	if chunked {
		length = -1
	}
	keep := !req.close && !upgraded
	toEOF := !noBody && !chunked && length < 0
	if req.http10 && (chunked || toEOF) {
		keep = false
	}

	line := res.bytes(res.line)
	b := append(cc.out[:0], "HTTP/1.1"...)
	b = append(b, line[len("HTTP/1.x"):]...)
	b = append(b, "\r\n"...)
	for _, f := range res.fields {
		name := res.bytes(f.name)
		if upgraded && equalFold(name, "upgrade") ||
			!hopByHop(name, connTokens) && !equalFold(name, "content-length") && !equalFold(name, "via") {
			b = append(b, res.buf[f.name.start:f.value.end]...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "Via: "...)
	b = appendVia(b, via)
	b = append(b, "\r\n"...)
	switch {
	case upgraded:
		b = append(b, "Connection: Upgrade\r\n"...)
	case length >= 0:
		b = appendLength(b, length)
	case !noBody && !req.http10:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if !keep && !upgraded {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	cc.out = b
	l.sent = status

	bw := cc.clientWriter()
	bw.Write(b)
	if upgraded {
		if !cc.send(nil) {
			l.clientGone()
			return false
		}
		l.bytes = tunnel(cc.c.Conn, cc.br, bc.Conn, bc.br, cc.rt.cfg.IdleTimeout, cc.awake)
		return false
	}
	p := pipe{src: bc.br, srcConn: &bc.timedConn, dst: bw, dstConn: cc.c, idle: cc.rt.cfg.IdleTimeout, waiting: cc.awake}
	ok := true
	switch {
	case noBody:
	case chunked:
		ok = p.copyChunked(req.http10)
	case length >= 0:
		ok = p.copyLength(length)
	default:
		ok = p.copyToEOF(!req.http10)
	}
	ok = ok && p.flush()
	l.bytes = p.n
	if ok {
		if !closing && !toEOF {
			cc.rt.pool.put(bc)
			*done = true
		}
		return keep
	}
	switch {
	case p.dstErr != nil && isTimeout(p.dstErr):
		l.fail(codeClientIdle, 499)
	case p.dstErr != nil:
		l.clientGone()
	case isTimeout(p.srcErr):
		l.fail(codeIdle, http.StatusServiceUnavailable)
	default:
		l.fail(codeInterrupted, http.StatusServiceUnavailable)
		l.sock = "backend"
	}
	return false
}

// parseStatusLine parses "HTTP/1.x NNN Reason": a status line without its
// reason phrase is Heroku's H17.
func parseStatusLine(line []byte) (int, bool) {
	if len(line) < len("HTTP/1.x 200 ") || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || line[12] != ' ' {
		return 0, false
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, code >= 100 && len(bytes.TrimSpace(line[13:])) > 0
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// forwardedPort is the port the client connected to (Heroku: 80 or 443).
func forwardedPort(host []byte, https bool) []byte {
	if i := bytes.LastIndexByte(host, ':'); i >= 0 && bytes.IndexByte(host[i:], ']') < 0 && i+1 < len(host) {
		return host[i+1:]
	}
	if https {
		return []byte("443")
	}
	return []byte("80")
}

func appendVia(b, prior []byte) []byte {
	if len(prior) > 0 {
		b = append(b, prior...)
		b = append(b, ", "...)
	}
	return append(b, "1.1 bulut"...)
}
