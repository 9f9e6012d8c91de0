package local

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/bulut-bulut/bulut"
)

// openPTY allocates a pseudo-terminal: the master for the runtime, the
// slave for the dyno.
func openPTY(size bulut.WindowSize) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var n uint32
	err = ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(new(int32)))
	if err == nil {
		err = ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n))
	}
	if err == nil {
		err = setSize(master, size)
	}
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("allocate a terminal: %w", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

type winsize struct{ rows, cols, x, y uint16 }

// setSize sets the terminal's size (the kernel sends SIGWINCH to its
// foreground processes).
func setSize(master *os.File, size bulut.WindowSize) error {
	if size.Rows == 0 || size.Cols == 0 {
		return nil
	}
	ws := winsize{rows: size.Rows, cols: size.Cols}
	return ioctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg))
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
