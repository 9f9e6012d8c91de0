package router

import (
	"context"
	"sync"
	"time"

	"github.com/bulut-bulut/bulut"
)

// AppCache is an AppService that keeps the router's lookups of apps by
// name in memory, so that a request costs no database query. Changes made
// through it (UpdateApp, DeleteApp) empty it; entries also expire after a
// few seconds, for changes made elsewhere. Give the router and everything
// else that changes apps the same AppCache.
type AppCache struct {
	bulut.AppService
	ttl time.Duration

	mu     sync.RWMutex
	gen    uint64               // incremented by every Forget
	byName map[string]cachedApp // by host
}

type cachedApp struct {
	app     *bulut.App
	expires time.Time
}

// CacheApps wraps an AppService in an AppCache.
func CacheApps(apps bulut.AppService) *AppCache {
	return &AppCache{AppService: apps, ttl: 5 * time.Second, byName: map[string]cachedApp{}}
}

// UpdateApp implements bulut.AppService.
func (c *AppCache) UpdateApp(ctx context.Context, idOrName string, upd bulut.AppUpdate) (*bulut.App, error) {
	defer c.Forget()
	return c.AppService.UpdateApp(ctx, idOrName, upd)
}

// DeleteApp implements bulut.AppService.
func (c *AppCache) DeleteApp(ctx context.Context, idOrName string) (*bulut.App, error) {
	defer c.Forget()
	return c.AppService.DeleteApp(ctx, idOrName)
}

// Forget empties the cache.
func (c *AppCache) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.byName)
}

// lookup returns the app of a host, from memory if it can, else from load
// (the caller must not change it). Failures are not kept.
func (c *AppCache) lookup(ctx context.Context, host string, load func(context.Context, string) (*bulut.App, error)) (*bulut.App, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.byName[host]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.app, nil
	}
	app, err := load(ctx, host)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen { // else changed meanwhile: app may be stale
		c.byName[host] = cachedApp{app: app, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return app, nil
}

// Domains wraps a DomainService so that removing a domain through it
// empties the cache too.
func (c *AppCache) Domains(domains bulut.DomainService) bulut.DomainService {
	return &cachedDomains{DomainService: domains, c: c}
}

type cachedDomains struct {
	bulut.DomainService
	c *AppCache
}

func (d *cachedDomains) DeleteDomain(ctx context.Context, appIDOrName, idOrHostname string) (*bulut.Domain, error) {
	defer d.c.Forget()
	return d.DomainService.DeleteDomain(ctx, appIDOrName, idOrHostname)
}
