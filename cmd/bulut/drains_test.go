package main

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDrains_Syslog adds a syslog drain through the API to a TCP listener
// of the test's and checks the RFC 5424 octet-counted frames it gets for
// a deployed app's requests.
func TestDrains_Syslog(t *testing.T) {
	e := newDynoEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	frames := make(chan string, 1000)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go readFrames(c, frames)
		}
	}()

	if out, ok := e.push("drained", echoApp("drain")); !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	var drain struct{ Token, URL string }
	e.Do(t, "POST", "/apps/drained/log-drains", e.token, map[string]string{"url": "syslog://" + l.Addr().String()}, 201, &drain)
	if !strings.HasPrefix(drain.Token, "d.") {
		t.Fatalf("drain token %q", drain.Token)
	}
	e.waitFor("web.1 up", func() bool { return len(e.upWebDynos("drained")) == 1 })
	if code, _, err := e.appGet("drained", "/drain-me"); code != 200 || err != nil {
		t.Fatalf("GET: %d %v", code, err)
	}
	router := regexp.MustCompile(`^<158>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 ` + regexp.QuoteMeta(drain.Token) +
		` bulut router - - at=info method=GET path="/drain-me" host=drained\.localhost:\d+ .*status=200`)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case f := <-frames:
			if router.MatchString(f) {
				return
			}
		case <-deadline:
			t.Fatal("no router frame for the request reached the drain")
		}
	}
}

// readFrames reads octet-counted syslog frames ("LEN FRAME") from c.
func readFrames(c net.Conn, frames chan<- string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		size, err := r.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(size))
		if err != nil || n <= 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		frames <- strings.TrimSuffix(string(buf), "\n")
	}
}
