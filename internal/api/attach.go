package api

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulut-bulut/bulut"
)

// The attach protocol connects a terminal to a one-off dyno made with
// "attach": true (`bulut run`). Heroku hands out a rendezvous TLS socket;
// bulut serves the terminal on its API listener instead.
//
// The dyno's attach_url is a signed URL on the API host,
// APIURL/dyno-attach/{dyno_id}?sig=HMAC("dyno-attach:"+id), usable once
// and without a token. The client requests it as a protocol upgrade:
//
//	GET /dyno-attach/{id}?sig=... HTTP/1.1
//	Connection: Upgrade
//	Upgrade: bulut-attach
//	Bulut-Attach-Tty: true          (optional: give the command a PTY)
//	Bulut-Attach-Size: 24x80        (optional: ROWSxCOLS of the terminal)
//
// A wrong signature answers 404 and a request that isn't an upgrade 400,
// both in the API's error shape. Otherwise the server answers
// `101 Switching Protocols` (with `Upgrade: bulut-attach`) and the
// connection carries frames both ways until the command ends:
//
//	+--------+--------------------------+-------------------+
//	| type   | length (uint32, big end.) | payload (length)  |
//	| 1 byte | 4 bytes                   | at most 1 MiB     |
//	+--------+--------------------------+-------------------+
//
// Client to server:
//
//	0x01 stdin   bytes for the command's standard input
//	0x02 eof     the input ended (empty payload)
//	0x03 resize  the terminal's new size: rows, cols (2 x uint16, big endian)
//	0x04 signal  a signal for the command, by name: "INT", "TERM", "HUP", "QUIT"...
//
// Server to client:
//
//	0x81 output  bytes the command wrote (stdout and stderr together)
//	0x82 exit    the command ended: its exit code (int32, big endian); last frame
//	0x83 error   the dyno couldn't be attached or run: {"id","message"} as
//	             the API's errors; last frame
//
// Unknown frame types are ignored, so either side may add some. After the
// last frame the server closes its side; the client then closes the
// connection. A connection lost before that is a hang-up: the command's
// input ends and it gets SIGHUP (as on Heroku, it may go on running).
const (
	attachProtocol = "bulut-attach"

	frameStdin  = 0x01
	frameEOF    = 0x02
	frameResize = 0x03
	frameSignal = 0x04
	frameOutput = 0x81
	frameExit   = 0x82
	frameError  = 0x83

	maxFramePayload = 1 << 20
	// outputChunk bounds the output frames the server writes.
	outputChunk = 32 << 10
	// stdinBufferSize is how much input the server holds for a command
	// that doesn't read it yet, before it stops reading the connection.
	stdinBufferSize = 1 << 20
	// lingerTimeout is how long the server waits, after the last frame,
	// for the client to close the connection.
	lingerTimeout = 5 * time.Second
)

func attachMessage(dynoID string) string { return "dyno-attach:" + dynoID }

// attachURL is the signed URL attaching a terminal to a one-off dyno.
func (h *Handler) attachURL(dynoID string) string {
	return h.cfg.URLs.APIURL() + "/dyno-attach/" + url.PathEscape(dynoID) + "?sig=" + h.signature(attachMessage(dynoID))
}

var errNoSuchDyno = bulut.Errorf(bulut.ENOTFOUND, "Couldn't find that dyno to attach to: the URL is wrong, or the dyno is gone.")

// attachDyno upgrades the connection and runs the protocol above.
func (h *Handler) attachDyno(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if h.cfg.Dynos == nil || !h.validSignature(attachMessage(id), r.URL.Query().Get("sig")) {
		return errNoSuchDyno
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", attachProtocol) {
		return bulut.Errorf(bulut.EBADREQUEST, "Attach URLs need a protocol upgrade: send `Connection: Upgrade` and `Upgrade: %s`.", attachProtocol)
	}
	dio := bulut.DynoIO{TTY: parseBool(r.Header.Get("Bulut-Attach-Tty"))}
	if s := r.Header.Get("Bulut-Attach-Size"); s != "" {
		size, ok := parseWindowSize(s)
		if !ok {
			return bulut.Errorf(bulut.EBADREQUEST, "Invalid Bulut-Attach-Size %q: give ROWSxCOLS, e.g. 24x80.", s)
		}
		dio.Size = size
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+attachProtocol+"\r\nConnection: Upgrade\r\n\r\n"); err != nil {
		return nil
	}
	s := newAttachSession(conn, brw.Reader)
	dio.Stdin, dio.Stdout, dio.Resize, dio.Signal = s.stdin, s, s.resize, s.signal
	go s.readLoop()
	// The command outlives the request: a hang-up sends SIGHUP, it
	// doesn't cancel the dyno.
	code, err := h.cfg.Dynos.AttachDyno(context.WithoutCancel(r.Context()), id, dio)
	s.finish()
	if err != nil {
		if bulut.ErrorCode(err) == bulut.EINTERNAL {
			h.log.Error("attach failed", "dyno", id, "error", err)
			bulut.ReportError(err, "dyno", id)
		}
		body, _ := json.Marshal(errorBody{ID: bulut.ErrorCode(err), Message: bulut.ErrorMessage(err)})
		s.writeFrame(frameError, body)
	} else {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
		s.writeFrame(frameExit, b[:])
	}
	s.linger()
	return nil
}

// attachSession is the server's side of one attached terminal.
type attachSession struct {
	conn   net.Conn
	r      *bufio.Reader
	stdin  *stdinBuffer
	resize chan bulut.WindowSize
	signal chan string

	wmu  sync.Mutex
	werr error // the first write error: the client is gone

	mu       sync.Mutex
	finished bool          // the command ended: a lost connection is no hang-up
	closed   chan struct{} // closed when the read loop ends
}

func newAttachSession(conn net.Conn, r *bufio.Reader) *attachSession {
	return &attachSession{conn: conn, r: r, stdin: newStdinBuffer(stdinBufferSize),
		resize: make(chan bulut.WindowSize, 1), signal: make(chan string, 16), closed: make(chan struct{})}
}

// readLoop reads the client's frames until the connection ends.
func (s *attachSession) readLoop() {
	defer close(s.closed)
	for {
		typ, payload, err := readFrame(s.r)
		if err != nil {
			s.stdin.CloseWrite()
			s.mu.Lock()
			hangup := !s.finished
			s.mu.Unlock()
			if hangup {
				sendLatest(s.signal, "HUP")
			}
			return
		}
		switch typ {
		case frameStdin:
			s.stdin.Write(payload)
		case frameEOF:
			s.stdin.CloseWrite()
		case frameResize:
			if len(payload) == 4 {
				sendLatest(s.resize, bulut.WindowSize{Rows: binary.BigEndian.Uint16(payload), Cols: binary.BigEndian.Uint16(payload[2:])})
			}
		case frameSignal:
			if name, ok := signalName(string(payload)); ok {
				select {
				case s.signal <- name:
				default: // nobody reads signals: drop them
				}
			}
		}
	}
}

// Write implements io.Writer for the command's output.
func (s *attachSession) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), outputChunk)]
		if err := s.writeFrame(frameOutput, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

func (s *attachSession) writeFrame(typ byte, payload []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	s.werr = writeFrame(s.conn, typ, payload)
	return s.werr
}

// finish marks the command as ended: input nobody reads any more is
// dropped, and the connection closing is no hang-up.
func (s *attachSession) finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	s.stdin.CloseRead()
}

// linger half-closes the connection after the last frame and waits a
// little for the client to close it, so the last frame isn't lost to a
// reset caused by input the server never read.
func (s *attachSession) linger() {
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	s.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	<-s.closed
}

// sendLatest sends v on a buffered channel, replacing a value nobody has
// read yet (the newest terminal size is the one that matters).
func sendLatest[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// readFrame reads one frame.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFramePayload {
		return 0, nil, errors.New("attach: frame too large")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// writeFrame writes one frame in a single write.
func writeFrame(w io.Writer, typ byte, payload []byte) error {
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

// signalName normalises a signal name ("int", "SIGINT" -> "INT").
func signalName(s string) (string, bool) {
	s = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if s == "" || len(s) > 16 {
		return "", false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return "", false
		}
	}
	return s, true
}

// parseWindowSize parses ROWSxCOLS.
func parseWindowSize(s string) (bulut.WindowSize, bool) {
	rows, cols, ok := strings.Cut(strings.TrimSpace(s), "x")
	r, err1 := strconv.ParseUint(rows, 10, 16)
	c, err2 := strconv.ParseUint(cols, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return bulut.WindowSize{}, false
	}
	return bulut.WindowSize{Rows: uint16(r), Cols: uint16(c)}, true
}

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(s))
	return b
}

// headerHasToken reports whether a comma-separated header has token
// (case-insensitively), as `Connection: keep-alive, Upgrade`.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// stdinBuffer holds a command's input between the connection and the
// command: writes block only when it holds max bytes, so that resizes
// and signals get through while the command doesn't read.
type stdinBuffer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	buf        []byte
	max        int
	eof        bool // no more input
	readClosed bool // nobody reads: drop input
}

func newStdinBuffer(max int) *stdinBuffer {
	b := &stdinBuffer{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Write adds input, waiting while the buffer is full.
func (b *stdinBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) >= b.max && !b.readClosed && !b.eof {
		b.cond.Wait()
	}
	if b.readClosed || b.eof {
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	b.cond.Broadcast()
	return len(p), nil
}

// Read implements io.Reader for the command.
func (b *stdinBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 && !b.eof && !b.readClosed {
		b.cond.Wait()
	}
	if len(b.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	if len(b.buf) == 0 {
		b.buf = nil
	}
	b.cond.Broadcast()
	return n, nil
}

// CloseWrite ends the input once what is buffered has been read.
func (b *stdinBuffer) CloseWrite() {
	b.mu.Lock()
	b.eof = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

// CloseRead drops buffered and future input.
func (b *stdinBuffer) CloseRead() {
	b.mu.Lock()
	b.readClosed, b.buf = true, nil
	b.cond.Broadcast()
	b.mu.Unlock()
}
