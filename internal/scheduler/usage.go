package scheduler

import (
	"time"

	"github.com/bulut-bulut/bulut"
)

// Free dyno hours: each app's free dynos that run (starting or up, not
// idle) are counted per second against Config.FreeDynoHours a calendar
// month (UTC, by Config.Now). An app that used them up sleeps until the
// 1st: its route says QuotaExceeded (H82) and Wake does not wake it.

func (s *Scheduler) usageLoop() {
	defer s.loops.Done()
	tick := time.NewTicker(s.t.UsageInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			s.countUsage()
		}
	}
}

// freeHours is the monthly allowance in seconds.
func (s *Scheduler) freeSeconds() int64 {
	h := s.cfg.FreeDynoHours
	if h <= 0 {
		h = 750
	}
	return int64(h) * 3600
}

// countUsage records the free dyno time since the last count, puts apps
// that used up their hours to sleep and lifts the quota of a new month.
func (s *Scheduler) countUsage() {
	now := s.cfg.Now()
	month := bulut.UsageMonth(now)
	type add struct {
		a    *appState
		secs int64
	}
	var adds []add
	var lifted []*appState
	s.mu.Lock()
	for _, a := range s.apps {
		if a.quotaMonth != "" && a.quotaMonth != month {
			a.quotaMonth = ""
			lifted = append(lifted, a)
		}
		running := 0
		for _, d := range a.dynos {
			if !d.oneOff && d.Size == bulut.SizeFree && !d.removed && (d.State == bulut.DynoUp || d.State == bulut.DynoStarting) {
				running++
			}
		}
		last := a.usageAt
		a.usageAt = now
		if last.IsZero() || !now.After(last) || running == 0 {
			continue
		}
		a.usageFrac += now.Sub(last) * time.Duration(running)
		if secs := int64(a.usageFrac / time.Second); secs > 0 {
			a.usageFrac -= time.Duration(secs) * time.Second
			adds = append(adds, add{a, secs})
		}
	}
	s.mu.Unlock()
	for _, a := range lifted {
		a.poke() // the route loses QuotaExceeded; the next request wakes it
	}
	ctx := bulut.NewSystemContext(s.ctx)
	for _, ad := range adds {
		if err := s.cfg.Usage.AddDynoUsage(ctx, ad.a.id, month, ad.secs); err != nil {
			if bulut.ErrorCode(err) != bulut.ENOTFOUND && s.ctx.Err() == nil {
				s.log.Error("recording dyno usage", "app", ad.a.id, "error", err)
			}
			continue
		}
		u, err := s.cfg.Usage.FindDynoUsage(ctx, ad.a.id, month)
		if err != nil || u.Seconds < s.freeSeconds() {
			continue
		}
		s.mu.Lock()
		exceeded := ad.a.quotaMonth == ""
		if exceeded {
			ad.a.quotaMonth = month
		}
		s.mu.Unlock()
		if exceeded {
			s.log.Info("free dyno hours used up", "app", ad.a.id, "month", month)
			ad.a.poke() // it sleeps now
		}
	}
}
