package scheduler

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Web dynos get a random port in [portLow, portHigh), below Linux's
// ephemeral range (32768-60999) so that outgoing connections never take
// one; Heroku's ports look alike (22020, 7343, 21071).
const (
	portLow  = 10000
	portHigh = 30000
)

// ports hands out free loopback ports, one per web dyno.
type ports struct {
	mu   sync.Mutex
	used map[int]bool
}

// get returns a port no dyno holds and nothing listens on now.
func (p *ports) get() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used == nil {
		p.used = map[int]bool{}
	}
	for range 200 {
		port := portLow + rand.IntN(portHigh-portLow)
		if p.used[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		p.used[port] = true
		return port, nil
	}
	return 0, errors.New("scheduler: no free port for a web dyno")
}

// put gives a port back.
func (p *ports) put(port int) {
	if port == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, port)
}
