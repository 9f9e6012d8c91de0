package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Build is one run of the buildpacks on a pushed commit.
type Build struct {
	App        IDRef          `json:"app"`
	Buildpacks []BuildpackRef `json:"buildpacks"`
	CreatedAt  time.Time      `json:"created_at"`
	ID         string         `json:"id"`
	// OutputStreamURL streams the build's output as text/plain; it needs
	// no token.
	OutputStreamURL string `json:"output_stream_url"`
	Release         *IDRef `json:"release"`
	Slug            *IDRef `json:"slug"`
	SourceBlob      struct {
		Checksum           *string `json:"checksum"`
		URL                string  `json:"url"`
		Version            *string `json:"version"`
		VersionDescription *string `json:"version_description"`
	} `json:"source_blob"`
	Stack     string    `json:"stack"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
	User      User      `json:"user"`
}

// BuildpackRef names a buildpack by URL (or built-in name) and name.
type BuildpackRef struct {
	URL  string `json:"url"`
	Name string `json:"name"`
}

// Builds returns an app's newest builds, at most max of them (1000 if max
// is 0 or more), newest first.
func (c *Client) Builds(ctx context.Context, app string, max int) ([]*Build, error) {
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var out []*Build
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/builds", nil, &out,
		withHeader("Range", fmt.Sprintf("created_at ..; max=%d, order=desc", max)))
	return out, err
}

// Build returns one of an app's builds.
func (c *Client) Build(ctx context.Context, app, id string) (*Build, error) {
	return callFor[Build](ctx, c, http.MethodGet, appPath(app)+"/builds/"+url.PathEscape(id), nil)
}

// PurgeBuildCache asks for an app's build cache to be emptied.
func (c *Client) PurgeBuildCache(ctx context.Context, app string) error {
	_, err := c.call(ctx, http.MethodDelete, appPath(app)+"/build-cache", nil, nil)
	return err
}

// OpenStream opens a signed URL the API gave out (a build's
// output_stream_url, a slug's blob), without credentials. The caller
// closes the body, which streams as the server writes it.
func (c *Client) OpenStream(ctx context.Context, streamURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	if err != nil {
		return nil, err
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NetworkError{URL: streamURL, Err: unwrapURLError(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp.Body, nil
}

// Slug is the built, compressed tree of an app.
type Slug struct {
	Blob struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"blob"`
	BuildpackProvidedDescription *string           `json:"buildpack_provided_description"`
	Checksum                     *string           `json:"checksum"`
	Commit                       *string           `json:"commit"`
	CommitDescription            *string           `json:"commit_description"`
	CreatedAt                    time.Time         `json:"created_at"`
	ID                           string            `json:"id"`
	ProcessTypes                 map[string]string `json:"process_types"`
	Size                         *int64            `json:"size"`
	Stack                        NamedRef          `json:"stack"`
	UpdatedAt                    time.Time         `json:"updated_at"`
}

// Slug returns one of an app's slugs.
func (c *Client) Slug(ctx context.Context, app, id string) (*Slug, error) {
	return callFor[Slug](ctx, c, http.MethodGet, appPath(app)+"/slugs/"+url.PathEscape(id), nil)
}

// Formation is how many dynos of a process type an app runs, and their
// size.
type Formation struct {
	App       NamedRef  `json:"app"`
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Quantity  int       `json:"quantity"`
	Size      string    `json:"size"`
	Type      string    `json:"type"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Formation returns an app's process types.
func (c *Client) Formation(ctx context.Context, app string) ([]*Formation, error) {
	var out []*Formation
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/formation", nil, &out)
	return out, err
}

// BuildpackInstallation is one of the buildpacks an app is built with.
type BuildpackInstallation struct {
	Buildpack BuildpackRef `json:"buildpack"`
	Ordinal   int          `json:"ordinal"`
}

// Buildpacks returns the buildpacks an app is built with, in order.
func (c *Client) Buildpacks(ctx context.Context, app string) ([]*BuildpackInstallation, error) {
	var out []*BuildpackInstallation
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/buildpack-installations", nil, &out)
	return out, err
}

// SetBuildpacks replaces an app's buildpacks (URLs or names); none means
// detection.
func (c *Client) SetBuildpacks(ctx context.Context, app string, buildpacks []string) ([]*BuildpackInstallation, error) {
	type update struct {
		Buildpack string `json:"buildpack"`
	}
	in := struct {
		Updates []update `json:"updates"`
	}{Updates: []update{}}
	for _, bp := range buildpacks {
		in.Updates = append(in.Updates, update{bp})
	}
	var out []*BuildpackInstallation
	_, err := c.call(ctx, http.MethodPut, appPath(app)+"/buildpack-installations", in, &out)
	return out, err
}
