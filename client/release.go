package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Release is a numbered version of an app.
type Release struct {
	AddonPlanNames  []string  `json:"addon_plan_names"`
	App             NamedRef  `json:"app"`
	CreatedAt       time.Time `json:"created_at"`
	Current         bool      `json:"current"`
	Description     string    `json:"description"`
	ID              string    `json:"id"`
	OutputStreamURL *string   `json:"output_stream_url"`
	Slug            *IDRef    `json:"slug"`
	Status          string    `json:"status"`
	UpdatedAt       time.Time `json:"updated_at"`
	User            User      `json:"user"`
	Version         int       `json:"version"`
}

// IDRef points at another resource by ID alone.
type IDRef struct {
	ID string `json:"id"`
}

// Releases returns an app's newest releases, at most max of them (1000
// if max is 0 or more), newest first.
func (c *Client) Releases(ctx context.Context, app string, max int) ([]*Release, error) {
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var out []*Release
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/releases", nil, &out,
		withHeader("Range", fmt.Sprintf("version ..; max=%d, order=desc", max)))
	return out, err
}

// LatestRelease returns an app's newest release (nil if it has none).
func (c *Client) LatestRelease(ctx context.Context, app string) (*Release, error) {
	var out []*Release
	if _, err := c.call(ctx, http.MethodGet, appPath(app)+"/releases", nil, &out,
		withHeader("Range", "version ..; order=desc,max=1")); err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// Release returns one of an app's releases by ID or version ("3" or "v3").
func (c *Client) Release(ctx context.Context, app, idOrVersion string) (*Release, error) {
	return callFor[Release](ctx, c, http.MethodGet, releasePath(app, idOrVersion), nil)
}

// Rollback makes a new release with the slug and config vars of an
// earlier one (by ID or version).
func (c *Client) Rollback(ctx context.Context, app, idOrVersion string) (*Release, error) {
	return callFor[Release](ctx, c, http.MethodPost, appPath(app)+"/releases", map[string]string{"release": idOrVersion})
}

// CreateRelease releases a slug of the app; an empty description lets
// the server write one.
func (c *Client) CreateRelease(ctx context.Context, app, slugID, description string) (*Release, error) {
	in := map[string]string{"slug": slugID}
	if description != "" {
		in["description"] = description
	}
	return callFor[Release](ctx, c, http.MethodPost, appPath(app)+"/releases", in)
}

// ReleaseConfigVars returns the config vars a release was made with.
func (c *Client) ReleaseConfigVars(ctx context.Context, app, idOrVersion string) (map[string]string, error) {
	var out map[string]string
	_, err := c.call(ctx, http.MethodGet, releasePath(app, idOrVersion)+"/config-vars", nil, &out)
	return out, err
}

func releasePath(app, idOrVersion string) string {
	return appPath(app) + "/releases/" + url.PathEscape(idOrVersion)
}

// ConfigVars returns an app's config vars.
func (c *Client) ConfigVars(ctx context.Context, app string) (map[string]string, error) {
	var out map[string]string
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/config-vars", nil, &out)
	return out, err
}

// UpdateConfigVars sets (a value) and unsets (nil) config vars and returns
// all of them after the change, which makes a release.
func (c *Client) UpdateConfigVars(ctx context.Context, app string, patch map[string]*string) (map[string]string, error) {
	var out map[string]string
	_, err := c.call(ctx, http.MethodPatch, appPath(app)+"/config-vars", patch, &out)
	return out, err
}
