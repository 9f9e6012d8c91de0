package scheduler_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/scheduler"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestFreeDynoHours counts a free web dyno's time with a fake clock:
// asleep time is not counted, the app sleeps with QuotaExceeded (H82)
// once its hours are used up, and wakes again from the 1st.
func TestFreeDynoHours(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.IdleTimeout = 100 * time.Millisecond
	timings.DeepSleepAfter = -1
	timings.UsageInterval = 5 * time.Millisecond
	clock := &fakeClock{t: time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)}
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	usage := sqlite.NewDynoUsageService(db)
	e := &env{t: t, db: db, svc: services(db), host: newFakeHost(), timing: timings, configure: func(c *scheduler.Config) {
		c.Usage, c.FreeDynoHours, c.Now = usage, 1, clock.Now
	}}
	e.routes = &routeRecorder{host: e.host}
	e.start()
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "hours")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")
	time.Sleep(30 * time.Millisecond) // counting has begun (every 5 ms)

	used := func() int64 {
		u, err := usage.FindDynoUsage(context.Background(), app.ID, "2026-12")
		if err != nil {
			t.Fatal(err)
		}
		return u.Seconds
	}
	// Awake (requests keep it so): 20 minutes count.
	keepAwake := func(d time.Duration) {
		e.s.Touch(app.ID)
		clock.Add(d)
		waitFor(t, "the usage to be counted", func() bool { e.s.Touch(app.ID); return used() >= int64(d/time.Second)-1 }, nil)
	}
	keepAwake(20 * time.Minute)
	if n := used(); n < 20*60-1 || n > 20*60+1 {
		t.Fatalf("used %d s, want 1200", n)
	}
	// Asleep: not counted.
	e.waitRoute(app, "asleep", func(r bulut.Route) bool { return r.Asleep })
	before := used()
	clock.Add(2 * time.Hour)
	time.Sleep(50 * time.Millisecond)
	if n := used(); n != before {
		t.Fatalf("asleep time counted: %d s -> %d s", before, n)
	}
	// Woken, it uses up its hour: asleep with QuotaExceeded; Wake does
	// not wake it.
	if err := e.s.Wake(context.Background(), app.ID); err != nil {
		t.Fatal(err)
	}
	e.waitRoute(app, "awake", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	e.s.Touch(app.ID)
	clock.Add(41 * time.Minute)
	e.waitRoute(app, "quota exceeded", func(r bulut.Route) bool { return r.QuotaExceeded && r.Asleep && len(r.Backends) == 0 })
	if n := used(); n < 3600 {
		t.Fatalf("used %d s at the quota", n)
	}
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := e.s.Wake(wctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.routes.route(app.ID); !r.QuotaExceeded || len(r.Backends) != 0 {
		t.Fatalf("woken over quota: %+v", r)
	}
	// The 1st: the quota is lifted; a request wakes it.
	clock.Add(4 * time.Hour) // 2027-01-01 00:xx
	e.waitRoute(app, "quota lifted", func(r bulut.Route) bool { return !r.QuotaExceeded && r.Asleep })
	if err := e.s.Wake(context.Background(), app.ID); err != nil {
		t.Fatal(err)
	}
	e.waitRoute(app, "awake in January", func(r bulut.Route) bool { return len(r.Backends) == 1 })
}
