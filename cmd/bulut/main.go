// Command bulut is the whole platform in one binary: `bulut server` runs
// it, every other command is a client of its API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bulut-bulut/bulut/internal/cli"
	"github.com/bulut-bulut/bulut/internal/dynoinit"
)

func main() {
	// The dyno init runs as PID 1 inside a dyno: nothing else of the
	// binary (signal handling above all) may come first.
	if len(os.Args) > 1 && os.Args[1] == "dyno-init" {
		os.Exit(dynoinit.Main(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	host, _ := os.Hostname()
	env := cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Dir: wd, Hostname: host,
	}
	return cli.Run(ctx, env, os.Args[1:], newServerCommand(env), newHookCommand(env))
}
