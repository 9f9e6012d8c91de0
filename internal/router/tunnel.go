package router

import (
	"io"
	"net"
	"sync/atomic"
	"time"
)

// tunnel copies an upgraded connection both ways until either side
// closes or both are silent for the idle window (Heroku's 55 s apply to
// WebSockets too), calling active as bytes move, then closes both. It
// returns the bytes sent to the client.
func tunnel(client net.Conn, clientBuf io.Reader, dyno net.Conn, dynoBuf io.Reader, idle time.Duration, active func()) int64 {
	var last atomicTime
	last.touch()
	up := make(chan struct{})
	go func() {
		defer close(up)
		copyIdle(dyno, client, clientBuf, idle, &last, active)
		dyno.Close()
		client.Close()
	}()
	n := copyIdle(client, dyno, dynoBuf, idle, &last, active)
	client.Close()
	dyno.Close()
	<-up
	return n
}

// copyIdle copies from src (read through r) to dst until either fails or
// neither side moved for the idle window.
func copyIdle(dst, src net.Conn, r io.Reader, idle time.Duration, last *atomicTime, active func()) int64 {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	var n int64
	for {
		src.SetReadDeadline(time.Now().Add(idle))
		m, err := r.Read(*buf)
		if m > 0 {
			last.touch()
			active()
			dst.SetWriteDeadline(time.Now().Add(idle))
			if _, err := dst.Write((*buf)[:m]); err != nil {
				return n
			}
			n += int64(m)
		}
		if err != nil {
			if isTimeout(err) && time.Since(last.get()) < idle {
				continue // the other way moved
			}
			return n
		}
	}
}

// atomicTime is a time read and set from several goroutines.
type atomicTime struct{ ns atomic.Int64 }

func (t *atomicTime) touch()         { t.ns.Store(time.Now().UnixNano()) }
func (t *atomicTime) get() time.Time { return time.Unix(0, t.ns.Load()) }
