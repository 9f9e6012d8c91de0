package api

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per key (account or IP): size tokens,
// refilled at size per period, as Heroku's 4500 requests an hour.
type rateLimiter struct {
	size   float64
	rate   float64 // tokens per second
	now    func() time.Time
	mu     sync.Mutex
	bucket map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(size int, period time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{size: float64(size), rate: float64(size) / period.Seconds(), now: now, bucket: map[string]*bucket{}}
}

// take spends one token of key's bucket; it returns the tokens left and
// whether one was available.
func (l *rateLimiter) take(key string) (int, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket[key]
	if b == nil {
		if len(l.bucket) > 100000 {
			l.sweep(now)
		}
		b = &bucket{tokens: l.size, last: now}
		l.bucket[key] = b
	}
	// A clock set back refills nothing (and takes nothing back).
	if now.After(b.last) {
		b.tokens = min(l.size, b.tokens+now.Sub(b.last).Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return 0, false
	}
	b.tokens--
	return int(b.tokens), true
}

// sweep forgets buckets that are full again, bounding memory.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.bucket {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.size {
			delete(l.bucket, k)
		}
	}
}
