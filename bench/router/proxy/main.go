// Command proxy serves bulut's router on the address given as its first
// argument, for an app "bench" (in a throwaway store, as the server keeps
// apps) whose one web dyno is the upstream at the second argument.
package main

import (
	"context"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "net/http/pprof"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/logplex"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

func main() {
	listen, upstream := os.Args[1], os.Args[2]
	dir, err := os.MkdirTemp("", "bulut-router-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db := sqlite.NewDB(filepath.Join(dir, "bulut.db"))
	if err := db.Open(); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	acct, err := sqlite.NewAccountService(db).CreateAccount(ctx, "bench@example.com", "bench-password")
	if err != nil {
		log.Fatal(err)
	}
	apps := sqlite.NewAppService(db)
	app, err := apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "bench")
	if err != nil {
		log.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(listen)
	p, _ := strconv.Atoi(port)
	// Router lines go to the log service, as in the server.
	logs := logplex.New(logplex.Config{Dir: filepath.Join(dir, "logs"), Drains: sqlite.NewLogDrainService(db)})
	if err := logs.Open(); err != nil {
		log.Fatal(err)
	}
	rt := router.New(router.Config{Apps: router.CacheApps(apps), Logs: logs, URLs: bulut.URLs{Scheme: "http", Domain: "localhost", Port: p}})
	rt.SetRoute(bulut.Route{AppID: app.ID, Backends: []string{upstream}, Dynos: []string{"web.1"}})
	if a := os.Getenv("PPROF"); a != "" {
		go http.ListenAndServe(a, nil)
	}
	// As the server serves the router.
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	front := &router.Front{Router: rt, Platform: &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 10 * time.Second}}
	log.Fatal(front.Serve(ln))
}
