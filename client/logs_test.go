package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
)

func TestClient_StreamLogs(t *testing.T) {
	var headers http.Header
	body := ": a comment\n\nretry: 1000\nid: 1\ndata: one\n\nid: 2\r\ndata:two\r\n\r\n" +
		"data: three\ndata: lines\n\nevent: message\ndata: no id\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers = r.Header.Clone()
		switch r.URL.Path {
		case "/gone":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			w.Write([]byte(`{"id":"not_found","message":"Couldn't find that log stream."}`))
		case "/cut":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("id: 1\ndata: one\n\nid: 2\ndata: tw"))
		default:
			w.Write([]byte(body))
		}
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, "secret")
	ctx := context.Background()

	var got []client.LogEvent
	collect := func(ev client.LogEvent) error { got = append(got, ev); return nil }
	if err := c.StreamLogs(ctx, srv.URL+"/s", "41", collect); err != nil {
		t.Fatal(err)
	}
	want := []client.LogEvent{{"1", "one"}, {"2", "two"}, {"2", "three\nlines"}, {"2", "no id"}}
	if len(got) != len(want) {
		t.Fatalf("events %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d = %q, want %q", i, got[i], want[i])
		}
	}
	if headers.Get("Accept") != "text/event-stream" || headers.Get("Last-Event-ID") != "41" || headers.Get("Authorization") != "" {
		t.Fatalf("headers %v", headers)
	}

	got = nil
	err := c.StreamLogs(ctx, srv.URL+"/cut", "", collect)
	if !errors.Is(err, client.ErrLogStreamCut) || len(got) != 1 {
		t.Fatalf("cut stream: %v, %q", err, got)
	}
	err = c.StreamLogs(ctx, srv.URL+"/gone", "", collect)
	if bulut.ErrorCode(err) != bulut.ENOTFOUND {
		t.Fatalf("gone: %v", err)
	}
	stop := errors.New("stop")
	if err := c.StreamLogs(ctx, srv.URL+"/s", "", func(client.LogEvent) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
}
