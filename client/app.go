package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// App is an application as the Platform API shows it.
type App struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	WebURL      string     `json:"web_url"`
	GitURL      string     `json:"git_url"`
	Owner       User       `json:"owner"`
	Region      NamedRef   `json:"region"`
	Stack       NamedRef   `json:"stack"`
	BuildStack  NamedRef   `json:"build_stack"`
	Maintenance bool       `json:"maintenance"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ReleasedAt  *time.Time `json:"released_at"`
	RepoSize    *int       `json:"repo_size"`
	SlugSize    *int       `json:"slug_size"`
}

// NamedRef points at another resource by ID and name (a region, a stack).
type NamedRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// appsPageRange asks for the largest page the API gives, in name order.
const appsPageRange = "name ..; max=1000"

// maxPages stops Apps should a server keep sending Next-Range headers.
const maxPages = 1000

// Apps lists the account's apps in name order, following Next-Range
// across pages.
func (c *Client) Apps(ctx context.Context) ([]*App, error) {
	var all []*App
	rng := appsPageRange
	for range maxPages {
		var page []*App
		resp, err := c.call(ctx, http.MethodGet, "/apps", nil, &page, withHeader("Range", rng))
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		next := resp.Header.Get("Next-Range")
		if resp.StatusCode != http.StatusPartialContent || next == "" || next == rng {
			return all, nil
		}
		rng = next
	}
	return nil, fmt.Errorf("list apps: more than %d pages", maxPages)
}

// CreateApp creates an app; an empty name lets the server generate one.
func (c *Client) CreateApp(ctx context.Context, name string) (*App, error) {
	in := map[string]string{}
	if name != "" {
		in["name"] = name
	}
	return callFor[App](ctx, c, http.MethodPost, "/apps", in)
}

// App returns an app by ID or name.
func (c *Client) App(ctx context.Context, idOrName string) (*App, error) {
	return callFor[App](ctx, c, http.MethodGet, appPath(idOrName), nil)
}

// RenameApp renames an app and returns it with its new name and URLs.
func (c *Client) RenameApp(ctx context.Context, idOrName, newName string) (*App, error) {
	return callFor[App](ctx, c, http.MethodPatch, appPath(idOrName), map[string]string{"name": newName})
}

// DeleteApp deletes an app and returns it as it was.
func (c *Client) DeleteApp(ctx context.Context, idOrName string) (*App, error) {
	return callFor[App](ctx, c, http.MethodDelete, appPath(idOrName), nil)
}

func appPath(idOrName string) string { return "/apps/" + url.PathEscape(idOrName) }
