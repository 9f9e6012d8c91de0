package router

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// The router reads HTTP/1.x heads itself (net/http's server and client
// cost it most of its time): a head's lines are copied, as received, into
// one buffer reused from request to request, and parsed in place.

// span is a part of a head's buffer.
type span struct{ start, end int32 }

// field is one header line: its name and value.
type field struct{ name, value span }

// head is a request's or a response's head as received.
type head struct {
	buf      []byte // the raw head, CRLFs included
	line     span   // the first line, without its CRLF
	fields   []field
	tooLarge bool // over the limits of its kind
}

func (h *head) bytes(s span) []byte { return h.buf[s.start:s.end] }

// get returns the value of the first field named name.
func (h *head) get(name string) ([]byte, bool) {
	for _, f := range h.fields {
		if equalFold(h.bytes(f.name), name) {
			return h.bytes(f.value), true
		}
	}
	return nil, false
}

// limits bound what a head may hold; a head over them is still read and
// parsed (up to maxHead), and marked tooLarge.
type limits struct {
	line      int // the first line
	fieldLine int // each header line
	name      int // each header name
	fields    int // number of header lines
}

// Heroku's request limits (heroku-reference 1.4): a longer request line or
// header line, a longer header name or more headers get a 400 (H26).
var requestLimits = limits{line: 8192, fieldLine: 8192, name: 1000, fields: 1000}

// Heroku's response limits: 502 and H25 beyond.
var responseLimits = limits{line: 8192, fieldLine: 512 << 10, name: 8192, fields: 1000}

// maxHead is what the router reads of a head at most, over limits or
// not: beyond, the connection is closed.
const maxHead = 1 << 20

var (
	errHeadTooLong = errors.New("router: head over 1 MB")
	errMalformed   = errors.New("router: malformed head")
)

// readHead reads a head from br into h. Empty lines before a request's
// first line are skipped (RFC 9112 2.2). A head over the limits is read
// and marked; a malformed one gives errMalformed.
func readHead(br *bufio.Reader, h *head, lim limits) error {
	h.buf, h.fields, h.tooLarge = h.buf[:0], h.fields[:0], false
	for {
		line, err := readLine(br, h, lim.line)
		if err != nil {
			return err
		}
		if line.end > line.start {
			h.line = line
			break
		}
		h.buf = h.buf[:0]
	}
	for {
		line, err := readLine(br, h, lim.fieldLine)
		if err != nil {
			return err
		}
		if line.end == line.start {
			return nil
		}
		b := h.buf[line.start:line.end]
		colon := bytes.IndexByte(b, ':')
		if b[0] == ' ' || b[0] == '\t' || colon <= 0 {
			return errMalformed // obsolete line folding, or no name
		}
		name := b[:colon]
		if bytes.ContainsAny(name, " \t") {
			return errMalformed
		}
		if colon > lim.name || len(h.fields) >= lim.fields {
			h.tooLarge = true
		}
		v := int32(colon + 1)
		for int(v) < len(b) && (b[v] == ' ' || b[v] == '\t') {
			v++
		}
		e := int32(len(b))
		for e > v && (b[e-1] == ' ' || b[e-1] == '\t') {
			e--
		}
		h.fields = append(h.fields, field{
			name:  span{line.start, line.start + int32(colon)},
			value: span{line.start + v, line.start + e},
		})
	}
}

// readLine appends one line to h.buf and returns it without its line end.
// A line over max marks h tooLarge.
func readLine(br *bufio.Reader, h *head, max int) (span, error) {
	start := len(h.buf)
	for {
		frag, err := br.ReadSlice('\n')
		if len(h.buf)+len(frag) > maxHead {
			return span{}, errHeadTooLong
		}
		h.buf = append(h.buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(h.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return span{}, err
		}
	}
	end := len(h.buf) - 1
	if end > start && h.buf[end-1] == '\r' {
		end--
	}
	if end-start > max {
		h.tooLarge = true
	}
	return span{int32(start), int32(end)}, nil
}

// equalFold reports whether a equals b, ignoring ASCII case.
func equalFold[T ~string | ~[]byte](a []byte, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasToken reports whether a comma-separated list holds token, ignoring
// case.
func hasToken[T ~string | ~[]byte](list []byte, token T) bool {
	for len(list) > 0 {
		var t []byte
		if i := bytes.IndexByte(list, ','); i >= 0 {
			t, list = list[:i], list[i+1:]
		} else {
			t, list = list, nil
		}
		if equalFold(bytes.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// parseContentLength parses a Content-Length value: digits only.
func parseContentLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
