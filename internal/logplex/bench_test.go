package logplex

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

var benchLine = bulut.LogLine{
	Source:  bulut.SourcePlatform,
	Process: "router",
	Text:    `at=info method=GET path="/" host=myapp.example.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 protocol=https`,
}

// BenchmarkLog is one line into an app with no tail or drain, kept on disk.
func BenchmarkLog(b *testing.B) {
	l := New(Config{Dir: b.TempDir()})
	l.Open()
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(app, benchLine)
	}
}

// BenchmarkLogMemory is BenchmarkLog without persistence.
func BenchmarkLogMemory(b *testing.B) {
	l := New(Config{})
	l.Open()
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(app, benchLine)
	}
}

// BenchmarkLogTail is one line with a tail that reads everything.
func BenchmarkLogTail(b *testing.B) {
	l := New(Config{Dir: b.TempDir()})
	l.Open()
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := l.Tail(ctx, app, bulut.LogFilter{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for range ch {
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		l.Log(app, benchLine)
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}

// BenchmarkLogStuckTail is one line with a tail that never reads.
func BenchmarkLogStuckTail(b *testing.B) {
	l := New(Config{})
	l.Open()
	defer l.Close()
	l.Tail(b.Context(), app, bulut.LogFilter{})
	b.ReportAllocs()
	for b.Loop() {
		l.Log(app, benchLine)
	}
}

// BenchmarkLogParallel is many producers (dynos) on as many apps.
func BenchmarkLogParallel(b *testing.B) {
	l := New(Config{Dir: b.TempDir()})
	l.Open()
	defer l.Close()
	var n int64
	var mu sync.Mutex
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		id := "app-" + strconv.FormatInt(n%8, 10)
		mu.Unlock()
		for pb.Next() {
			l.Log(id, benchLine)
		}
	})
}

// BenchmarkRecent is `logs -n 100` with a filter on a full ring.
func BenchmarkRecent(b *testing.B) {
	l := New(Config{})
	l.Open()
	defer l.Close()
	for i := range 1500 {
		line := benchLine
		line.Process = "web." + strconv.Itoa(i%4+1)
		l.Log(app, line)
	}
	f := bulut.LogFilter{Dyno: "web.1"}
	b.ReportAllocs()
	for b.Loop() {
		if len(l.Recent(app, 100, f)) != 100 {
			b.Fatal("short")
		}
	}
}

// BenchmarkFrame is formatting one line for a syslog or HTTPS drain.
func BenchmarkFrame(b *testing.B) {
	w := &drainWorker{d: bulut.LogDrain{Token: "d.73ea7440-270a-435a-a0ea-adf50b4e5f5a"}}
	line := benchLine
	line.Time = time.Now()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = w.appendFrame(buf[:0], line)
	}
}
