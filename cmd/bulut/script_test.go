package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the real `bulut` binary inside the
// scripts (testscript runs it under that name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"bulut": func() { os.Exit(run()) }})
}

// TestScript runs the end-to-end scripts in testdata/script: each starts a
// real server on a free port and drives the real CLI, git and curl.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"waitfor": waitFor},
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
