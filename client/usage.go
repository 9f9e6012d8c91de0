package client

import (
	"context"
	"net/http"
)

// Usage is an app's free dyno hours this calendar month.
type Usage struct {
	Month            string `json:"month"`
	QuotaSeconds     int64  `json:"quota_seconds"`
	UsedSeconds      int64  `json:"used_seconds"`
	RemainingSeconds int64  `json:"remaining_seconds"`
}

// Usage returns an app's free dyno usage this month.
func (c *Client) Usage(ctx context.Context, app string) (*Usage, error) {
	return callFor[Usage](ctx, c, http.MethodGet, appPath(app)+"/usage", nil)
}
