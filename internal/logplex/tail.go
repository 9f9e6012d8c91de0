package logplex

import (
	"context"
	"strconv"
	"time"

	"github.com/bulut-bulut/bulut"
)

// tail is one Tail session. Its fields other than ch, kick and f are
// guarded by the app's mu, as are the sends on ch.
type tail struct {
	f    bulut.LogFilter
	ch   chan bulut.LogLine
	kick chan struct{} // the tail started dropping lines
	now  func() time.Time

	dropping bool
	dropped  int
	since    time.Time
}

// catchUpPoll is how often a dropping tail is checked for having caught up.
const catchUpPoll = 10 * time.Millisecond

// offer hands a line to the tail unless it is behind (app's mu held).
func (t *tail) offer(line bulut.LogLine) {
	if !t.f.Match(line) {
		return
	}
	if t.dropping {
		t.dropped++
		return
	}
	select {
	case t.ch <- line:
	default:
		t.dropping, t.dropped, t.since = true, 1, t.now()
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// caughtUp ends a dropping spell once the reader has emptied half the
// buffer: the tail gets an L11 line, then lines again (app's mu held).
func (t *tail) caughtUp() bool {
	if len(t.ch) > cap(t.ch)/2 {
		return false
	}
	t.ch <- bulut.LogLine{
		Time:    t.now(),
		Source:  bulut.SourcePlatform,
		Process: "logplex",
		Text: "L11 (Tail buffer overflow) -> This tail session dropped " + strconv.Itoa(t.dropped) +
			" messages since " + t.since.UTC().Format(sinceFormat),
	}
	t.dropping, t.dropped = false, 0
	return true
}

// sinceFormat is how L10 and L11 lines print the time of the first loss.
const sinceFormat = "2006-01-02T15:04:05-07:00"

// watchTail ends the tail with ctx and sends its L11 lines.
func (l *Logplex) watchTail(ctx context.Context, a *appLog, t *tail) {
	for {
		select {
		case <-ctx.Done():
			l.endTail(a, t)
			return
		case <-l.closing:
			return // Close ends the tails
		case <-t.kick:
		}
		tick := time.NewTicker(catchUpPoll)
		for done := false; !done; {
			select {
			case <-ctx.Done():
				tick.Stop()
				l.endTail(a, t)
				return
			case <-l.closing:
				tick.Stop()
				return
			case <-tick.C:
				a.mu.Lock()
				done = !t.dropping || !a.hasTail(t) || t.caughtUp()
				a.mu.Unlock()
			}
		}
		tick.Stop()
	}
}

func (a *appLog) hasTail(t *tail) bool {
	for _, x := range a.tails {
		if x == t {
			return true
		}
	}
	return false
}

// endTail removes a tail and closes its channel, unless Close or Forget
// did already.
func (l *Logplex) endTail(a *appLog, t *tail) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, x := range a.tails {
		if x == t {
			a.tails = append(a.tails[:i:i], a.tails[i+1:]...)
			close(t.ch)
			return
		}
	}
}
