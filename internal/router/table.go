package router

import (
	"sync"

	"github.com/bulut-bulut/bulut"
)

// table holds each app's route, as the scheduler last published it.
type table struct {
	mu      sync.RWMutex
	routes  map[string]bulut.Route // by app ID
	changed chan struct{}          // closed (and replaced) on every change
}

var _ bulut.RouteTable = (*Router)(nil)

// SetRoute implements bulut.RouteTable: the scheduler tells the router
// which web dynos serve an app. Routes are kept even when empty, so that
// whatever else they say (asleep, ...) stays known.
func (rt *Router) SetRoute(r bulut.Route) {
	rt.table.mu.Lock()
	defer rt.table.mu.Unlock()
	if rt.table.routes == nil {
		rt.table.routes = map[string]bulut.Route{}
	}
	if rt.table.changed != nil {
		close(rt.table.changed)
		rt.table.changed = nil
	}
	r.Backends = append([]string(nil), r.Backends...)
	r.Dynos = append([]string(nil), r.Dynos...)
	rt.table.routes[r.AppID] = r
}

// route returns an app's route.
func (rt *Router) route(appID string) bulut.Route {
	rt.table.mu.RLock()
	defer rt.table.mu.RUnlock()
	return rt.table.routes[appID]
}

// routeAndChange returns an app's route and a channel closed at the next
// change of any route.
func (rt *Router) routeAndChange(appID string) (bulut.Route, <-chan struct{}) {
	rt.table.mu.Lock()
	defer rt.table.mu.Unlock()
	if rt.table.changed == nil {
		rt.table.changed = make(chan struct{})
	}
	return rt.table.routes[appID], rt.table.changed
}
