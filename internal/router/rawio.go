package router

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawConn reads and writes a TCP connection with raw system calls, still
// waiting in Go's network poller when the socket isn't ready.
//
// Why: a write on a loopback connection does the receiving side's work
// too (tens of microseconds), and net.Conn's system calls tell the
// scheduler they may block, so its monitor hands the goroutine's P to
// another thread while they run: a thread switch or two per request, most
// of the router's cost over nginx's. The sockets are non-blocking: these
// calls never wait in the kernel.
type rawConn struct {
	net.Conn
	rc syscall.RawConn

	// Each direction's call (a tunnel reads and writes at once).
	rbuf, wbuf     []byte
	rn, wn         int
	rerrno, werrno syscall.Errno
	readFn         func(fd uintptr) bool
	writeFn        func(fd uintptr) bool
}

// newRawConn wraps c, or returns it as it is when it has no file
// descriptor (a test's pipe).
func newRawConn(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawConn{Conn: c, rc: rc}
	r.readFn, r.writeFn = r.read, r.write
	return r
}

func (c *rawConn) read(fd uintptr) bool {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&c.rbuf[0])), uintptr(len(c.rbuf)))
	if errno == syscall.EAGAIN {
		return false // wait until readable
	}
	c.rn, c.rerrno = int(n), errno
	return true
}

func (c *rawConn) write(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&c.wbuf[c.wn])), uintptr(len(c.wbuf)-c.wn))
		if errno == syscall.EAGAIN {
			return false // wait until writable
		}
		if errno != 0 {
			c.werrno = errno
			return true
		}
		c.wn += int(n)
	}
	return true
}

func (c *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rbuf, c.rn, c.rerrno = p, 0, 0
	err := c.rc.Read(c.readFn)
	c.rbuf = nil
	switch {
	case err != nil:
		return 0, err // closed, or past the deadline
	case c.rerrno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.RemoteAddr(), Err: c.rerrno}
	case c.rn == 0:
		return 0, io.EOF
	}
	return c.rn, nil
}

func (c *rawConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.wbuf, c.wn, c.werrno = p, 0, 0
	err := c.rc.Write(c.writeFn)
	c.wbuf = nil
	if err == nil && c.werrno != 0 {
		err = &net.OpError{Op: "write", Net: "tcp", Addr: c.RemoteAddr(), Err: c.werrno}
	}
	return c.wn, err
}
