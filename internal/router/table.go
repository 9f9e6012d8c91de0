package router

import (
	"sync"

	"github.com/bulut-bulut/bulut"
)

// table holds each app's route, as the scheduler last published it.
type table struct {
	mu     sync.RWMutex
	routes map[string]bulut.Route // by app ID
}

var _ bulut.RouteTable = (*Router)(nil)

// SetRoute implements bulut.RouteTable: the scheduler tells the router
// which web dynos serve an app.
func (rt *Router) SetRoute(r bulut.Route) {
	rt.table.mu.Lock()
	defer rt.table.mu.Unlock()
	if rt.table.routes == nil {
		rt.table.routes = map[string]bulut.Route{}
	}
	if len(r.Backends) == 0 && !r.Crashed {
		delete(rt.table.routes, r.AppID)
		return
	}
	r.Backends = append([]string(nil), r.Backends...)
	rt.table.routes[r.AppID] = r
}

// route returns an app's route.
func (rt *Router) route(appID string) bulut.Route {
	rt.table.mu.RLock()
	defer rt.table.mu.RUnlock()
	return rt.table.routes[appID]
}
