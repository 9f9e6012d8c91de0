package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the real `bulut` binary inside the
// scripts (testscript runs it under that name).
func TestMain(m *testing.M) {
	// The runtime starts the dyno init through a descriptor of this
	// binary, so its name is not "bulut" then: recognise it by its
	// argument, as main does.
	if len(os.Args) > 1 && os.Args[1] == "dyno-init" {
		main()
	}
	testscript.Main(m, map[string]func(){"bulut": main})
}

// TestScript runs the end-to-end scripts in testdata/script: each starts a
// real server on a free port and drives the real CLI, git and curl.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfor": waitFor,
			"procs":   waitProcs,
		},
	})
}

func setupScript(e *testscript.Env) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	home := filepath.Join(e.WorkDir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	e.Setenv("PORT", strconv.Itoa(port))
	e.Setenv("HOME", home)
	e.Setenv("BULUT_LISTEN", "127.0.0.1:"+strconv.Itoa(port))
	e.Setenv("BULUT_DATA_DIR", filepath.Join(e.WorkDir, "data"))
	e.Setenv("BULUT_API_URL", fmt.Sprintf("http://api.localhost:%d", port))
	e.Setenv("BROWSER", "true")
	e.Setenv("GIT_AUTHOR_NAME", "bulut test")
	e.Setenv("GIT_AUTHOR_EMAIL", "test@example.com")
	e.Setenv("GIT_COMMITTER_NAME", "bulut test")
	e.Setenv("GIT_COMMITTER_EMAIL", "test@example.com")
	e.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor URL waits up to 30 s until URL answers any HTTP response;
// `! waitfor URL` waits until nothing answers there any more.
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] waitfor URL")
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(args[0])
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s: still in the same state after 30s (error: %v)", args[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProcs CMDLINE N waits up to 30 s until exactly N processes of the
// machine have the command line CMDLINE (arguments joined by spaces).
func waitProcs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: procs PATTERN N")
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("procs: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := countProcs(args[0])
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d processes match %q, want %d", n, args[0], want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countProcs(pattern string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")) == pattern {
			n++
		}
	}
	return n
}
