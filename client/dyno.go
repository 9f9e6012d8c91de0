package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// FormationUpdate changes one process type. Quantity is absolute ("2")
// or relative ("+1", "-1"), as the heroku CLI sends it; Size is a dyno
// size name in any case. Empty fields are left alone.
type FormationUpdate struct {
	Type     string `json:"type"`
	Quantity string `json:"quantity,omitempty"`
	Size     string `json:"size,omitempty"`
}

// UpdateFormation scales process types and changes their sizes, all or
// nothing, and returns the formations it changed.
func (c *Client) UpdateFormation(ctx context.Context, app string, updates []FormationUpdate) ([]*Formation, error) {
	in := struct {
		Updates []FormationUpdate `json:"updates"`
	}{updates}
	var out []*Formation
	_, err := c.call(ctx, http.MethodPatch, appPath(app)+"/formation", in, &out)
	return out, err
}

// Dyno is a running (or starting, or crashed) process of an app.
type Dyno struct {
	App       NamedRef  `json:"app"`
	AttachURL *string   `json:"attach_url"`
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Release   struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	} `json:"release"`
	Size      string    `json:"size"`
	State     string    `json:"state"`
	Type      string    `json:"type"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Dynos lists an app's dynos.
func (c *Client) Dynos(ctx context.Context, app string) ([]*Dyno, error) {
	var out []*Dyno
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/dynos", nil, &out)
	return out, err
}

// Dyno returns one of an app's dynos by ID or name.
func (c *Client) Dyno(ctx context.Context, app, idOrName string) (*Dyno, error) {
	return callFor[Dyno](ctx, c, http.MethodGet, dynoPath(app, idOrName), nil)
}

// RestartAllDynos restarts every dyno of an app.
func (c *Client) RestartAllDynos(ctx context.Context, app string) error {
	_, err := c.call(ctx, http.MethodDelete, appPath(app)+"/dynos", nil, nil)
	return err
}

// RestartDyno restarts one dyno, by ID or name (web.1).
func (c *Client) RestartDyno(ctx context.Context, app, idOrName string) error {
	_, err := c.call(ctx, http.MethodDelete, dynoPath(app, idOrName), nil, nil)
	return err
}

// RestartProcessType restarts every dyno of a process type (web).
func (c *Client) RestartProcessType(ctx context.Context, app, processType string) error {
	_, err := c.call(ctx, http.MethodDelete, appPath(app)+"/formations/"+url.PathEscape(processType), nil, nil)
	return err
}

// StopDyno stops one dyno; the platform starts a formation dyno again.
func (c *Client) StopDyno(ctx context.Context, app, idOrName string) error {
	_, err := c.call(ctx, http.MethodPost, dynoPath(app, idOrName)+"/actions/stop", nil, nil)
	return err
}

// StopProcessType stops every dyno of a process type.
func (c *Client) StopProcessType(ctx context.Context, app, processType string) error {
	_, err := c.call(ctx, http.MethodPost, appPath(app)+"/formations/"+url.PathEscape(processType)+"/actions/stop", nil, nil)
	return err
}

// DynoCreate asks for a one-off dyno.
type DynoCreate struct {
	Command    string            `json:"command"`
	Attach     bool              `json:"attach"`
	Env        map[string]string `json:"env,omitempty"`
	ForceNoTTY bool              `json:"force_no_tty,omitempty"`
	Size       string            `json:"size,omitempty"`
	Type       string            `json:"type,omitempty"`
	TimeToLive int               `json:"time_to_live,omitempty"`
}

// CreateDyno starts a one-off dyno with the app's current release. With
// Attach, the dyno waits for a terminal at its AttachURL (see Attach).
func (c *Client) CreateDyno(ctx context.Context, app string, in DynoCreate) (*Dyno, error) {
	return callFor[Dyno](ctx, c, http.MethodPost, appPath(app)+"/dynos", in)
}

func dynoPath(app, idOrName string) string {
	return appPath(app) + "/dynos/" + url.PathEscape(idOrName)
}
