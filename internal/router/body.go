package router

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"
)

// pipe copies a body from one side of the router to the other as it
// arrives: each read that has to wait restarts the source's idle window,
// each flush the destination's, and what was copied is flushed before the
// source is waited on (streams pass chunk by chunk).
type pipe struct {
	src     *bufio.Reader
	srcConn *timedConn
	dst     *bufio.Writer
	dstConn *timedConn
	idle    time.Duration
	waiting func() // called before each read that may block (may be nil)
	n       int64  // payload bytes written

	srcErr, dstErr error // the first failure of each side
}

var errBadChunk = errors.New("router: malformed chunked encoding")

// wait flushes what was copied and arms the source's idle window before a
// read that may block.
func (p *pipe) wait() bool {
	if p.src.Buffered() > 0 {
		return true
	}
	if !p.flush() {
		return false
	}
	if p.waiting != nil {
		p.waiting()
	}
	p.srcConn.readWindow(time.Now(), p.idle)
	return true
}

func (p *pipe) flush() bool {
	if p.dst.Buffered() == 0 {
		return true
	}
	p.dstConn.writeWindow(time.Now(), p.idle)
	if err := p.dst.Flush(); err != nil {
		p.dstErr = err
		return false
	}
	return true
}

func (p *pipe) write(b []byte) bool {
	if p.dst.Available() < len(b) {
		p.dstConn.writeWindow(time.Now(), p.idle)
	}
	if _, err := p.dst.Write(b); err != nil {
		p.dstErr = err
		return false
	}
	return true
}

// copyLength copies n bytes.
func (p *pipe) copyLength(n int64) bool {
	for n > 0 {
		if p.src.Buffered() > 0 {
			b, _ := p.src.Peek(int(min(int64(p.src.Buffered()), n)))
			if !p.write(b) {
				return false
			}
			p.src.Discard(len(b))
			p.n += int64(len(b))
			n -= int64(len(b))
			continue
		}
		if !p.wait() {
			return false
		}
		buf := copyBuffers.Get().(*[]byte)
		m, err := p.src.Read((*buf)[:min(int64(len(*buf)), n)])
		ok := m == 0 || p.write((*buf)[:m])
		copyBuffers.Put(buf)
		if !ok {
			return false
		}
		p.n += int64(m)
		n -= int64(m)
		if err != nil && n > 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			p.srcErr = err
			return false
		}
	}
	return true
}

// copyToEOF copies until the source closes, framing each read as a chunk
// when chunk is set.
func (p *pipe) copyToEOF(chunk bool) bool {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for {
		if !p.wait() {
			return false
		}
		m, err := p.src.Read(*buf)
		if m > 0 {
			if chunk && !p.chunkHeader(m) || !p.write((*buf)[:m]) || chunk && !p.write(crlf) {
				return false
			}
			p.n += int64(m)
		}
		if err == io.EOF {
			if chunk && !p.write(lastChunk) {
				return false
			}
			return p.flush()
		}
		if err != nil {
			p.srcErr = err
			return false
		}
	}
}

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

func (p *pipe) chunkHeader(n int) bool {
	var b [20]byte
	return p.write(append(strconv.AppendInt(b[:0], int64(n), 16), '\r', '\n'))
}

// copyChunked copies a chunked body; strip drops the framing (for a
// client of HTTP/1.0, whose response ends with the connection).
func (p *pipe) copyChunked(strip bool) bool {
	for {
		line, ok := p.copyLine(strip)
		if !ok {
			return false
		}
		size, ok := parseChunkSize(line)
		if !ok {
			p.srcErr = errBadChunk
			return false
		}
		if size == 0 {
			break
		}
		if !p.copyLength(size) {
			return false
		}
		if end, ok := p.copyLine(strip); !ok || len(end) > 2 || end[0] != '\n' && end[0] != '\r' {
			if ok {
				p.srcErr = errBadChunk
			}
			return false
		}
	}
	// The trailer section, to its empty line.
	for {
		line, ok := p.copyLine(strip)
		if !ok {
			return false
		}
		if len(line) <= 2 {
			return p.flush()
		}
	}
}

// copyLine reads a line of a chunked body's framing, and copies it unless
// strip.
func (p *pipe) copyLine(strip bool) ([]byte, bool) {
	if !p.wait() {
		return nil, false
	}
	line, err := p.src.ReadSlice('\n')
	if err != nil {
		p.srcErr = chunkErr(err)
		return nil, false
	}
	if !strip && !p.write(line) {
		return nil, false
	}
	return line, true
}

func chunkErr(err error) error {
	if err == bufio.ErrBufferFull {
		return errBadChunk
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseChunkSize parses a chunk-size line (hex digits, then extensions).
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	digits := 0
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return n, digits > 0 && (c == ';' || c == '\r' || c == '\n' || c == ' ' || c == '\t')
		}
		if digits++; digits > 15 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return 0, false
}

// copyBuffers are the buffers of copies that don't fit the readers'.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
