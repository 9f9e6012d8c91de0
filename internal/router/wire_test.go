package router_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/router"
)

// rawDyno serves each connection with respond, which reads the request
// itself and writes whatever bytes it likes.
func (f *proxyFixture) rawDyno(respond func(br *bufio.Reader, c net.Conn)) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				respond(bufio.NewReader(c), c)
			}()
		}
	}()
	f.route(ln.Addr().String())
}

// wire sends raw bytes to the router and returns its connection's reader.
func (f *proxyFixture) wire(raw string) (net.Conn, *bufio.Reader) {
	f.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	return c, bufio.NewReader(c)
}

func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return res, string(b)
}

// skipHead reads up to the end of a head.
func skipHead(br *bufio.Reader) {
	for {
		if line, err := br.ReadString('\n'); err != nil || line == "\r\n" {
			return
		}
	}
}

func TestWire(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %q te=%v cl=%d", r.Method, r.URL.Path, b, r.TransferEncoding, r.ContentLength)
	})
	const host = "Host: routed.localhost:5000\r\n"

	// Pipelined requests are answered in order on the one connection,
	// bodies of both framings reach the dyno, HEAD has no body.
	_, br := f.wire("GET /a HTTP/1.1\r\n" + host + "\r\n" +
		"POST /b HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello" +
		"POST /c HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n" +
		"HEAD /d HTTP/1.1\r\n" + host + "\r\n")
	for _, want := range []struct{ method, body string }{
		{"GET", `GET /a "" te=[] cl=0`},
		{"POST", `POST /b "hello" te=[] cl=5`},
		{"POST", `POST /c "abcde" te=[chunked] cl=-1`},
		{"HEAD", ``},
	} {
		res, body := readResponse(t, br, want.method)
		if res.StatusCode != 200 || body != want.body || res.Header.Get("Via") != "1.1 bulut" {
			t.Fatalf("%s: %d %q %v, want %q", want.method, res.StatusCode, body, res.Header, want.body)
		}
	}

	// Requests the router refuses: 400 (H26) and the connection closed.
	for _, bad := range []string{
		"GET / HTTP/1.1\r\n" + host + "Content-Length: 15\r\nContent-Length: 24\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + host + "\r\n",
		"GET  / HTTP/1.1\r\n" + host + "\r\n",
		"GET / HTTP/2.0\r\n" + host + "\r\n",
		"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		_, br := f.wire(bad)
		res, _ := readResponse(t, br, "GET")
		if res.StatusCode != 400 {
			t.Fatalf("%q: %d", bad, res.StatusCode)
		}
	}
	f.waitLine(`at=error code=H26 desc="Request Error" cause="bad chunk"`)

	// An HTTP/1.0 client: no keep-alive, and the answer ends with the
	// connection.
	_, br = f.wire("GET /old HTTP/1.0\r\n" + host + "\r\n")
	if line, _ := br.ReadString('\n'); line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("1.0 status line %q", line)
	}
	if rest, _ := io.ReadAll(br); !strings.Contains(string(rest), "Connection: close\r\n") || !strings.HasSuffix(string(rest), `GET /old "" te=[] cl=0`) {
		t.Fatalf("1.0 response %q", rest)
	}
}

func TestWireResponses(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	const req = "GET / HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n"
	readRequest := func(br *bufio.Reader) bool {
		_, err := http.ReadRequest(br)
		return err == nil
	}

	// A response ended by the dyno's close reaches an HTTP/1.1 client
	// chunked, and the client's connection lives on.
	f.rawDyno(func(br *bufio.Reader, c net.Conn) {
		readRequest(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Up: 1\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\nuntil close")
	})
	_, br := f.wire(req + req)
	for range 2 {
		res, body := readResponse(t, br, "GET")
		if res.StatusCode != 200 || body != "until close" || res.TransferEncoding[0] != "chunked" || res.Header.Get("X-Up") != "1" || res.Header.Get("X-Hop") != "" {
			t.Fatalf("close-delimited: %d %q %v", res.StatusCode, body, res.Header)
		}
	}

	// H17: a status line without its reason phrase.
	f.rawDyno(func(br *bufio.Reader, c net.Conn) {
		readRequest(br)
		io.WriteString(c, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
	})
	_, br = f.wire(req)
	if res, _ := readResponse(t, br, "GET"); res.StatusCode != 503 {
		t.Fatalf("H17: %d", res.StatusCode)
	}
	f.waitLine(`at=error code=H17 desc="Poorly formatted HTTP response"`)

	// 1xx responses but 100 pass to the client before the final one; a
	// dyno's keep-alive connection is reused.
	var conns atomic.Int32
	f.rawDyno(func(br *bufio.Reader, c net.Conn) {
		conns.Add(1)
		for readRequest(br) {
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	c, br := f.wire(req)
	if line, _ := br.ReadString('\n'); line != "HTTP/1.1 103 Early Hints\r\n" {
		t.Fatalf("1xx: %q", line)
	}
	skipHead(br) // the rest of the 103
	if res, body := readResponse(t, br, "GET"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("after 1xx: %d %q", res.StatusCode, body)
	}
	for range 3 {
		io.WriteString(c, req)
		if line, _ := br.ReadString('\n'); line != "HTTP/1.1 103 Early Hints\r\n" {
			t.Fatalf("1xx: %q", line)
		}
		skipHead(br)
		readResponse(t, br, "GET")
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections to the dyno for 4 requests", n)
	}
}

func TestFrontHandsPlatformHostsOver(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app "+r.Host) })
	// One connection: an app, the platform (net/http from then on), an
	// app again (taken back from net/http).
	c, br := f.wire("GET / HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n")
	for i, host := range []string{"routed.localhost:5000", "api.localhost:5000", "routed.localhost:5000", "dashboard.localhost:5000", "routed.localhost:5000"} {
		if i > 0 {
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		}
		want := "app " + host
		if !strings.HasPrefix(host, "routed.") {
			want = "platform " + host
		}
		if res, body := readResponse(t, br, "GET"); res.StatusCode != 200 || body != want {
			t.Fatalf("request %d: %d %q, want %q", i, res.StatusCode, body, want)
		}
	}
}

// TestWebSocketEcho round-trips RFC 6455 frames through the router: the
// handshake's headers reach the dyno and its 101 the client.
func TestWebSocketEcho(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Version") != "13" {
			http.Error(w, "not a websocket handshake", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		for {
			op, payload, err := readFrame(brw.Reader)
			if err != nil || op == 8 {
				return
			}
			brw.Write(frame(op, payload, false)) // the server's frames are not masked
			brw.Flush()
		}
	})
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	c, br := f.wire("GET /ws HTTP/1.1\r\nHost: routed.localhost:5000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 101 || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) || res.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("handshake: %v %v", res, err)
	}
	for _, msg := range []string{"hello", strings.Repeat("long message ", 2000)} {
		c.Write(frame(1, []byte(msg), true))
		op, payload, err := readFrame(br)
		if err != nil || op != 1 || string(payload) != msg {
			t.Fatalf("echo: op %d, %d bytes, %v", op, len(payload), err)
		}
	}
	c.Write(frame(8, nil, true))
	if l := f.lastLine(1); !strings.Contains(l, `path="/ws"`) || !strings.Contains(l, "status=101") {
		t.Fatalf("websocket line %q", l)
	}
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// frame encodes a final frame; a client's are masked.
func frame(op byte, payload []byte, masked bool) []byte {
	b := []byte{0x80 | op}
	mask := byte(0)
	if masked {
		mask = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n < 1<<16:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := []byte{1, 2, 3, 4}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

func readFrame(br *bufio.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		_, err = io.ReadFull(br, e[:])
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		_, err = io.ReadFull(br, e[:])
		n = binary.BigEndian.Uint64(e[:])
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		_, err = io.ReadFull(br, key[:])
	}
	if err != nil {
		return 0, nil, err
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, payload, nil
}

// TestInterruptions: H18 (the dyno closes mid-request), H19 (it doesn't
// accept), H27 (the client leaves before the response), H28 (the client
// stops sending its body).
func TestInterruptions(t *testing.T) {
	f := newProxyFixture(t, router.Config{IdleTimeout: 200 * time.Millisecond, ConnectTimeout: 200 * time.Millisecond})
	// H18: the dyno reads part of the body and closes.
	f.rawDyno(func(br *bufio.Reader, c net.Conn) {
		skipHead(br)
		br.Read(make([]byte, 10))
	})
	_, br := f.wire("POST / HTTP/1.1\r\nHost: routed.localhost:5000\r\nContent-Length: 1000000\r\n\r\n" + strings.Repeat("x", 1000000))
	if res, _ := readResponse(t, br, "POST"); res.StatusCode != 503 {
		t.Fatalf("H18: %d", res.StatusCode)
	}
	f.waitLine(`sock=backend at=error code=H18 desc="Server Request Interrupted"`)

	// H27: the client closes its connection while the dyno works.
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		io.WriteString(w, "too late")
	})
	c, _ := f.wire("GET /slow HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n")
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if l := f.waitLine(`sock=client at=warning code=H27 desc="Client Request Interrupted" method=GET path="/slow"`); !strings.Contains(l, "status=499") {
		t.Fatalf("H27 line %q", l)
	}

	// H28: the client sends part of its body, then nothing.
	c, _ = f.wire("POST /upload HTTP/1.1\r\nHost: routed.localhost:5000\r\nContent-Length: 100\r\n\r\npart")
	if l := f.waitLine(`at=warning code=H28 desc="Client Connection Idle" method=POST path="/upload"`); !strings.Contains(l, "status=499") {
		t.Fatalf("H28 line %q", l)
	}
	c.Close()

	// H19: a dyno that doesn't accept within the connect timeout (a
	// listener whose backlog is full).
	f.route(fullListener(t))
	_, br = f.wire("GET / HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n")
	if res, _ := readResponse(t, br, "GET"); res.StatusCode != 503 {
		t.Fatalf("H19: %d", res.StatusCode)
	}
	f.waitLine(`at=error code=H19 desc="Backend connection timeout"`)
}

// fullListener returns the address of a listener that never accepts and
// whose backlog is full: connecting to it times out.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the backlog: connections the kernel queues but nobody accepts.
	for range 8 {
		d := net.Dialer{Timeout: 100 * time.Millisecond}
		if c, err := d.Dial("tcp", addr); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return addr
}

// TestBacklog: past Backlog requests in flight per web dyno, H11 at once.
func TestBacklog(t *testing.T) {
	f := newProxyFixture(t, router.Config{Backlog: 1})
	arrived, release := make(chan struct{}), make(chan struct{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			arrived <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	})
	held := make(chan int)
	go func() {
		res, _ := f.get("/hold")
		held <- res.StatusCode
	}()
	<-arrived
	if res, _ := f.get("/"); res.StatusCode != 503 {
		t.Fatalf("over the backlog: %d", res.StatusCode)
	}
	f.waitLine(`at=error code=H11 desc="Backlog too deep" method=GET path="/"`)
	close(release)
	if code := <-held; code != 200 {
		t.Fatalf("held request: %d", code)
	}
	if res, body := f.get("/"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("after: %d %q", res.StatusCode, body)
	}
}

// TestClientLeavesWhileWaiting: a client that closes its connection while
// its request waits for a slow dyno, or for a booting one, ends the wait:
// the dyno's connection is closed (its request's context is done), and
// the line says H27.
func TestClientLeavesWhileWaiting(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	cancelled := make(chan bool, 1)
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- true
		case <-time.After(10 * time.Second):
			cancelled <- false
		}
	})
	c, _ := f.wire("GET /slow HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n")
	time.Sleep(1200 * time.Millisecond) // past the router's first second of waiting
	c.Close()
	if !<-cancelled {
		t.Fatal("the dyno's connection outlived its client's")
	}
	f.waitLine(`sock=client at=warning code=H27 desc="Client Request Interrupted" method=GET path="/slow"`)

	var starting atomic.Bool
	starting.Store(true)
	f2 := newProxyFixture(t, router.Config{BootTimeout: time.Minute, Starting: func(string) bool { return starting.Load() }})
	f2.rt.SetRoute(bulut.Route{AppID: f2.app.ID})
	c, _ = f2.wire("GET /held HTTP/1.1\r\nHost: routed.localhost:5000\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	f2.waitLine(`sock=client at=warning code=H27 desc="Client Request Interrupted" method=GET path="/held"`)
}
