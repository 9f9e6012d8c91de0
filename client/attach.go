package client

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/bulut-bulut/bulut"
)

// The client side of the attach protocol, which bulut's API documents
// and serves (internal/api/attach.go): an HTTP upgrade to
// "bulut-attach", then frames of 1 type byte, a big-endian uint32 length
// and the payload.
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
	stdinChunk      = 32 << 10
)

// Attach connects a terminal to a one-off dyno made with Attach, at its
// attach URL, and returns the command's exit code once it ends. io.TTY
// asks for a pseudo-terminal of io.Size; io.Resize and io.Signal (either
// may be nil) are forwarded while the command runs; the end of io.Stdin
// ends the command's input. Cancelling ctx hangs up: the connection
// closes and the command gets SIGHUP.
func (c *Client) Attach(ctx context.Context, attachURL string, dio bulut.DynoIO) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, attachURL, nil)
	if err != nil {
		return -1, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", attachProtocol)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if dio.TTY {
		req.Header.Set("Bulut-Attach-Tty", "true")
	}
	if dio.Size != (bulut.WindowSize{}) {
		req.Header.Set("Bulut-Attach-Size", strconv.Itoa(int(dio.Size.Rows))+"x"+strconv.Itoa(int(dio.Size.Cols)))
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, &NetworkError{URL: attachURL, Err: unwrapURLError(err)}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return -1, fmt.Errorf("attach: the server answered %s instead of switching protocols", resp.Status)
		}
		return -1, decodeError(resp)
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return -1, errors.New("attach: the HTTP client can't switch protocols")
	}
	s := &attachClient{conn: conn, done: make(chan struct{})}
	defer s.close()
	go s.sendInput(dio.Stdin)
	go s.sendControl(dio.Resize, dio.Signal)
	go func() {
		select {
		case <-ctx.Done():
			conn.Close()
		case <-s.done:
		}
	}()
	code, err := s.receive(dio.Stdout)
	if err != nil && ctx.Err() != nil {
		return -1, ctx.Err()
	}
	return code, err
}

// attachClient is the client's side of one attached terminal.
type attachClient struct {
	conn      io.ReadWriteCloser
	wmu       sync.Mutex
	done      chan struct{}
	closeOnce sync.Once
}

func (s *attachClient) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.conn.Close()
	})
}

func (s *attachClient) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *attachClient) send(typ byte, payload []byte) error {
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[5:], payload)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.conn.Write(buf)
	return err
}

// sendInput forwards stdin until it ends, then says so.
func (s *attachClient) sendInput(stdin io.Reader) {
	if stdin != nil {
		buf := make([]byte, stdinChunk)
		for {
			n, err := stdin.Read(buf)
			if s.stopped() {
				return
			}
			if n > 0 {
				if s.send(frameStdin, buf[:n]) != nil {
					return
				}
			}
			if err != nil {
				break
			}
		}
	}
	s.send(frameEOF, nil)
}

// sendControl forwards terminal resizes and signals.
func (s *attachClient) sendControl(resize <-chan bulut.WindowSize, signal <-chan string) {
	for {
		select {
		case <-s.done:
			return
		case ws, ok := <-resize:
			if !ok {
				resize = nil
				continue
			}
			var b [4]byte
			binary.BigEndian.PutUint16(b[:], ws.Rows)
			binary.BigEndian.PutUint16(b[2:], ws.Cols)
			s.send(frameResize, b[:])
		case name, ok := <-signal:
			if !ok {
				signal = nil
				continue
			}
			s.send(frameSignal, []byte(name))
		}
	}
}

// receive writes the command's output to stdout until its exit code or
// an error comes.
func (s *attachClient) receive(stdout io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(s.conn, hdr[:]); err != nil {
			return -1, fmt.Errorf("The connection to the dyno was lost: %w.", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxFramePayload {
			return -1, errors.New("The dyno sent a frame too large for the attach protocol.")
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(s.conn, payload); err != nil {
			return -1, fmt.Errorf("The connection to the dyno was lost: %w.", err)
		}
		switch hdr[0] {
		case frameOutput:
			stdout.Write(payload)
		case frameExit:
			if len(payload) != 4 {
				return -1, errors.New("The dyno sent a malformed exit code.")
			}
			return int(int32(binary.BigEndian.Uint32(payload))), nil
		case frameError:
			var body errorBody
			if json.Unmarshal(payload, &body) != nil || body.Message == "" {
				return -1, fmt.Errorf("The dyno failed: %s", payload)
			}
			return -1, &bulut.Error{Code: body.ID, Message: body.Message, Resource: body.Resource}
		}
	}
}
