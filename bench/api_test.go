// Package bench holds measurements that print figures rather than pass or
// fail. They run only when BULUT_BENCH=1 (see the scripts beside them).
package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

func requireBench(t *testing.T) {
	if os.Getenv("BULUT_BENCH") != "1" {
		t.Skip("set BULUT_BENCH=1 to run measurements")
	}
}

// latencies sends n requests one after another and returns their sorted
// durations.
func latencies(t *testing.T, c *http.Client, n int, build func() *http.Request) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	for range n {
		req := build()
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: status %d", req.URL, resp.StatusCode)
		}
		buf := make([]byte, 32<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }

// TestAPILatency measures GET /apps for an account with 1,000 apps (the
// default page of 200 and a full page of 1,000), against GET /account on
// the same server as the reference (same HTTP stack, auth and protocol,
// no list).
func TestAPILatency(t *testing.T) {
	requireBench(t)
	env := testenv.New(t)
	token := env.Signup(t, "bench@example.com", "benchmark")
	acct, _, err := env.Store.Authorizations.AuthenticateToken(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	ctx := bulut.NewContextWithAccount(context.Background(), acct)
	for i := range 1000 {
		if _, err := env.Store.Apps.CreateApp(ctx, fmt.Sprintf("bench-app-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path, rng string) func() *http.Request {
		return func() *http.Request {
			req := env.Request(t, "GET", path, token, nil)
			if rng != "" {
				req.Header.Set("Range", rng)
			}
			return req
		}
	}
	const n = 1500                                  // within the 4,500-request rate limit
	latencies(t, env.Client, 100, get("/apps", "")) // warm up
	ref := latencies(t, env.Client, n, get("/account", ""))
	page := latencies(t, env.Client, n, get("/apps", ""))
	full := latencies(t, env.Client, n/4, get("/apps", "id ..; max=1000"))
	fmt.Printf("GET /account (reference)      p50 %8v  p99 %8v\n", pct(ref, .5), pct(ref, .99))
	fmt.Printf("GET /apps (200 of 1,000 apps) p50 %8v  p99 %8v  p50 ratio %.1fx\n", pct(page, .5), pct(page, .99),
		float64(pct(page, .5))/float64(pct(ref, .5)))
	fmt.Printf("GET /apps (all 1,000 apps)    p50 %8v  p99 %8v  p50 ratio %.1fx\n", pct(full, .5), pct(full, .99),
		float64(pct(full, .5))/float64(pct(ref, .5)))
}
