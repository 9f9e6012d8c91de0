package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Domain is a host name an app answers on: its own (kind "heroku") or a
// custom one (kind "custom", to point at CName).
type Domain struct {
	ID        string    `json:"id"`
	Hostname  string    `json:"hostname"`
	Kind      string    `json:"kind"`
	CName     *string   `json:"cname"`
	Status    string    `json:"status"`
	App       NamedRef  `json:"app"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Domains lists an app's domains, its own host first.
func (c *Client) Domains(ctx context.Context, app string) ([]*Domain, error) {
	var out []*Domain
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/domains", nil, &out)
	return out, err
}

// AddDomain adds a custom domain to an app.
func (c *Client) AddDomain(ctx context.Context, app, hostname string) (*Domain, error) {
	in := struct {
		Hostname string `json:"hostname"`
	}{hostname}
	return callFor[Domain](ctx, c, http.MethodPost, appPath(app)+"/domains", in)
}

// RemoveDomain removes a custom domain, by host name or ID, and returns it.
func (c *Client) RemoveDomain(ctx context.Context, app, hostnameOrID string) (*Domain, error) {
	return callFor[Domain](ctx, c, http.MethodDelete, appPath(app)+"/domains/"+url.PathEscape(hostnameOrID), nil)
}
