package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/logplex"
)

const logsApp = "0b6f3a47-2f0c-4c65-9f4d-6c5e1a1b2c3d"

// benchLogLines are router lines as the router logs them, over four dynos.
func benchLogLines() []bulut.LogLine {
	lines := make([]bulut.LogLine, 64)
	for i := range lines {
		lines[i] = bulut.LogLine{
			Source:  bulut.SourcePlatform,
			Process: "router",
			Text: fmt.Sprintf(`at=info method=GET path="/items/%d" host=bench-app.example.com request_id=8601b555-6a83-4c12-8269-97c8e32c%04d fwd="204.204.204.204" dyno=web.%d connect=1ms service=%dms status=200 bytes=%d protocol=https`,
				i, i, i%4+1, i%40, 100+i),
		}
	}
	return lines
}

// oneDrain is a LogDrainService with one drain for every app.
type oneDrain struct{ url string }

func (d oneDrain) FindLogDrains(ctx context.Context, app string) ([]*bulut.LogDrain, error) {
	return []*bulut.LogDrain{{ID: "bench", AppID: app, URL: d.url, Token: "d.00000000-0000-4000-8000-000000000000"}}, nil
}

func (oneDrain) CreateLogDrain(context.Context, string, string) (*bulut.LogDrain, error) {
	return nil, bulut.Errorf(bulut.EINVALID, "read only")
}

func (oneDrain) DeleteLogDrain(context.Context, string, string) (*bulut.LogDrain, error) {
	return nil, bulut.NotFound("log drain")
}

// syslogSink counts the octet-counted frames it receives and, when asked,
// how long after their timestamp they arrived.
type syslogSink struct {
	ln     net.Listener
	frames atomic.Int64
	mu     sync.Mutex
	lat    []time.Duration
	timed  atomic.Bool
}

func newSyslogSink(t *testing.T) *syslogSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.read(c)
		}
	}()
	return s
}

func (s *syslogSink) read(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 256<<10)
	var buf []byte
	for {
		n, err := r.ReadSlice(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(string(n[:len(n)-1]))
		if err != nil {
			return
		}
		buf = slices.Grow(buf[:0], size)[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		s.frames.Add(1)
		if s.timed.Load() {
			// <PRI>1 TIMESTAMP ...
			f := strings.Fields(string(buf[:min(len(buf), 64)]))
			if ts, err := time.Parse(bulut.LogTimeFormat, f[1]); err == nil && !strings.Contains(string(buf), "logplex") {
				s.mu.Lock()
				s.lat = append(s.lat, time.Since(ts))
				s.mu.Unlock()
			}
		}
	}
}

// tailReader reads a tail, recording each line's delay from Log (the
// producer stamps Time just before calling Log) and L11 losses.
type tailReader struct {
	got, dropped int
	lat          []time.Duration
	done         chan struct{}
}

func readTail(ch <-chan bulut.LogLine, expect int) *tailReader {
	r := &tailReader{lat: make([]time.Duration, 0, expect), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for l := range ch {
			if l.Process == "logplex" {
				if i := strings.Index(l.Text, "dropped "); i >= 0 {
					n, _ := strconv.Atoi(strings.Fields(l.Text[i+len("dropped "):])[0])
					r.dropped += n
				}
				continue
			}
			r.got++
			r.lat = append(r.lat, time.Since(l.Time))
		}
		slices.Sort(r.lat)
	}()
	return r
}

func (r *tailReader) pcts() string {
	if len(r.lat) == 0 {
		return "no lines"
	}
	return fmt.Sprintf("p50 %v  p99 %v  max %v", pct(r.lat, .5).Round(time.Microsecond),
		pct(r.lat, .99).Round(time.Microsecond), r.lat[len(r.lat)-1].Round(time.Microsecond))
}

// produce logs n lines from p goroutines, each stamped just before Log,
// and returns how long it took.
func produce(n, p int, lines []bulut.LogLine, log func(bulut.LogLine)) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for g := range p {
		wg.Go(func() {
			for i := g; i < n; i += p {
				line := lines[i%len(lines)]
				line.Time = time.Now()
				log(line)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// TestLogsThroughput measures lines per second through Log with one tail
// attached and reading (persisted to disk, as the server runs it), with a
// syslog drain too, and from 4 producers, against references in the same
// process: appending the same lines to a mutex-guarded slice, and that
// plus a buffered channel to a reading goroutine (the least a tail costs).
func TestLogsThroughput(t *testing.T) {
	requireBench(t)
	const n = 2_000_000
	lines := benchLogLines()
	rate := func(d time.Duration) float64 { return n / d.Seconds() }

	// References: the least it takes to keep the last lines (a slice
	// under a mutex, cut back to 1,500 lines when full), that plus a
	// channel to one reading goroutine (a lossless tail: the producer waits
	// for the reader), and formatting lines to a buffered writer on
	// io.Discard (a plain log file without the disk).
	var mu sync.Mutex
	slice := make([]bulut.LogLine, 0, 4096)
	keep := func(l bulut.LogLine) {
		mu.Lock()
		if len(slice) == cap(slice) {
			slice = slice[:copy(slice, slice[len(slice)-1500:])]
		}
		slice = append(slice, l)
		mu.Unlock()
	}
	refSlice := produce(n, 1, lines, keep)
	ch := make(chan bulut.LogLine, 1000)
	r := readTail(ch, n)
	refChan := produce(n, 1, lines, func(l bulut.LogLine) {
		keep(l)
		ch <- l
	})
	close(ch)
	<-r.done
	bw := bufio.NewWriter(io.Discard)
	refWriter := produce(n, 1, lines, func(l bulut.LogLine) {
		mu.Lock()
		bw.WriteString(l.String())
		bw.WriteByte('\n')
		mu.Unlock()
	})
	fmt.Printf("reference: mutex+slice of the last lines     %10.0f lines/s\n", rate(refSlice))
	fmt.Printf("reference: that + channel to a reader        %10.0f lines/s  (delay %s)\n", rate(refChan), r.pcts())
	fmt.Printf("reference: formatted to bufio on io.Discard  %10.0f lines/s\n", rate(refWriter))

	run := func(name string, producers int, drain bool) {
		cfg := logplex.Config{Dir: t.TempDir()}
		var sink *syslogSink
		if drain {
			sink = newSyslogSink(t)
			cfg.Drains = oneDrain{url: "syslog://" + sink.ln.Addr().String()}
		}
		l := logplex.New(cfg)
		if err := l.Open(); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if drain {
			l.DrainsChanged(logsApp)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := readTail(l.Tail(ctx, logsApp, bulut.LogFilter{}), n)
		d := produce(n, producers, lines, func(line bulut.LogLine) { l.Log(logsApp, line) })
		time.Sleep(300 * time.Millisecond) // the tail's L11, the drain's backlog
		cancel()
		<-r.done
		extra := ""
		if drain {
			extra = fmt.Sprintf("; drain got %d frames (the rest dropped, then L10)", sink.frames.Load())
		}
		fmt.Printf("logplex: %-33s %10.0f lines/s  %.2fx the slice; tail got %d, dropped %d (L11); delay %s%s\n",
			name, rate(d), rate(d)/rate(refSlice), r.got, r.dropped, r.pcts(), extra)
		if rate(d) < 100_000 {
			t.Errorf("%s: %.0f lines/s, want at least 100,000", name, rate(d))
		}
	}
	run("1 producer, 1 tail", 1, false)
	run("1 producer, 1 tail, syslog drain", 1, true)
	run("4 producers, 1 tail", 4, false)
}

// TestLogsTailLatency measures the delay from Log to a tail's receipt at
// steady rates (a burst of lines every millisecond) for 3 seconds each,
// with a syslog drain attached, whose delivery delay is measured too (from
// the frame's timestamp, which has microseconds).
func TestLogsTailLatency(t *testing.T) {
	requireBench(t)
	for _, perMs := range []int{10, 100, 250} {
		tailLatency(t, perMs)
	}
}

func tailLatency(t *testing.T, perMs int) {
	sink := newSyslogSink(t)
	sink.timed.Store(true)
	l := logplex.New(logplex.Config{Dir: t.TempDir(), Drains: oneDrain{url: "syslog://" + sink.ln.Addr().String()}})
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.DrainsChanged(logsApp)
	lines := benchLogLines()
	ctx, cancel := context.WithCancel(context.Background())
	r := readTail(l.Tail(ctx, logsApp, bulut.LogFilter{}), 3000*perMs)
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	start := time.Now()
	for end := start.Add(3 * time.Second); time.Now().Before(end); {
		<-tick.C
		for range perMs {
			line := lines[sent%len(lines)]
			line.Time = time.Now()
			l.Log(logsApp, line)
			sent++
		}
	}
	elapsed := time.Since(start)
	tick.Stop()
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-r.done
	sink.mu.Lock()
	dl := slices.Clone(sink.lat)
	sink.mu.Unlock()
	slices.Sort(dl)
	fmt.Printf("tail at %7.0f lines/s: got %d of %d, dropped %d (L11); delay %s\n",
		float64(sent)/elapsed.Seconds(), r.got, sent, r.dropped, r.pcts())
	if len(dl) > 0 {
		fmt.Printf("  syslog drain: got %d; delay p50 %v  p99 %v  max %v\n", len(dl),
			pct(dl, .5).Round(time.Microsecond), pct(dl, .99).Round(time.Microsecond), dl[len(dl)-1].Round(time.Microsecond))
	}
	if len(r.lat) > 0 && pct(r.lat, .99) > 100*time.Millisecond {
		t.Errorf("tail latency p99 %v, want under 100ms", pct(r.lat, .99))
	}
}
