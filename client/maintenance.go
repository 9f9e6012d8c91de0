package client

import (
	"context"
	"net/http"
)

// SetMaintenance turns an app's maintenance mode on or off.
func (c *Client) SetMaintenance(ctx context.Context, idOrName string, on bool) (*App, error) {
	return callFor[App](ctx, c, http.MethodPatch, appPath(idOrName), map[string]bool{"maintenance": on})
}
