package router

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Heroku's router error codes that this router answers.
const (
	codeAppCrashed     = "H10"
	codeBacklog        = "H11"
	codeBadResponse    = "H17"
	codeTimeout        = "H12"
	codeBackend        = "H13"
	codeNoWeb          = "H14"
	codeIdle           = "H15"
	codeInterrupted    = "H18"
	codeConnectTimeout = "H19"
	codeBootTimeout    = "H20"
	codeRefused        = "H21"
	codeRestriction    = "H25"
	codeRequestError   = "H26"
	codeClientGone     = "H27"
	codeClientIdle     = "H28"
	codeMaintenance    = "H80"
	codeBlankApp       = "H81"
	codeQuota          = "H82"
	codePlatform       = "H99"
)

var codeDescriptions = map[string]string{
	codeAppCrashed:     "App crashed",
	codeBacklog:        "Backlog too deep",
	codeBadResponse:    "Poorly formatted HTTP response",
	codeTimeout:        "Request timeout",
	codeBackend:        "Connection closed without response",
	codeNoWeb:          "No web processes running",
	codeIdle:           "Idle connection",
	codeInterrupted:    "Server Request Interrupted",
	codeConnectTimeout: "Backend connection timeout",
	codeBootTimeout:    "App boot timeout",
	codeRefused:        "Backend connection refused",
	codeRestriction:    "HTTP Restriction",
	codeRequestError:   "Request Error",
	codeClientGone:     "Client Request Interrupted",
	codeClientIdle:     "Client Connection Idle",
	codeMaintenance:    "Maintenance mode",
	codeBlankApp:       "Blank app",
	codeQuota:          "Free dyno quota exhausted",
	codePlatform:       "Platform error",
}

// codeLevel is the at= of a code's line when not "error".
var codeLevel = map[string]string{
	codeClientGone:  "warning",
	codeClientIdle:  "warning",
	codeMaintenance: "info",
	codeBlankApp:    "info",
}

// requestLog is what the router line of one request says.
type requestLog struct {
	start     time.Time
	requestID string
	dyno      string
	code      string
	status    int    // as logged, if the code's differs from what the client got
	sock      string // "backend" or "client" (H18, H27)
	cause     string // H26
	connect   time.Duration
	service   time.Duration // set by H12
	sent      int           // the status the client got
	bytes     int64         // the body's bytes the client got
}

// fail records an error code and the status logged with it.
func (l *requestLog) fail(code string, status int) {
	l.code, l.status = code, status
}

func (l *requestLog) clientGone() {
	l.fail(codeClientGone, 499)
	l.sock = "client"
}

// finish logs a request's line and counts it in the metrics.
func (rt *Router) finish(app *bulut.App, cc *clientConn, l *requestLog) {
	req := &cc.req
	status := l.status
	if status == 0 {
		status = l.sent
	}
	if status == 0 {
		status = http.StatusOK
	}
	rt.metrics.observe(app.Name, status, time.Since(l.start))
	cc.keepAwake(true) // the app was busy until now
	cc.appID = ""
	if rt.cfg.Logs == nil {
		return
	}
	buf := lineBuffers.Get().(*[]byte)
	defer lineBuffers.Put(buf)
	b := (*buf)[:0]
	if l.sock != "" {
		b = append(b, "sock="...)
		b = append(b, l.sock...)
		b = append(b, ' ')
	}
	if l.code != "" {
		level := codeLevel[l.code]
		if level == "" {
			level = "error"
		}
		b = append(b, "at="...)
		b = append(b, level...)
		b = append(b, " code="...)
		b = append(b, l.code...)
		b = append(b, ` desc="`...)
		b = append(b, codeDescriptions[l.code]...)
		b = append(b, '"')
		if l.cause != "" {
			b = append(b, ` cause="`...)
			b = append(b, l.cause...)
			b = append(b, '"')
		}
	} else {
		b = append(b, "at=info"...)
	}
	b = append(b, " method="...)
	b = append(b, req.bytes(req.method)...)
	b = append(b, ` path="`...)
	b = append(b, req.bytes(req.target)...)
	b = append(b, `" host=`...)
	b = append(b, req.host...)
	b = append(b, " request_id="...)
	b = append(b, l.requestID...)
	b = append(b, ` fwd="`...)
	if req.xff != nil {
		b = append(b, req.xff...)
		b = append(b, ", "...)
	}
	b = append(b, cc.ip...)
	b = append(b, `" dyno=`...)
	b = append(b, l.dyno...)
	b = append(b, " connect="...)
	if l.code == "" || l.connect > 0 {
		b = appendMillis(b, l.connect)
	}
	b = append(b, " service="...)
	switch {
	case l.service > 0:
		b = appendMillis(b, l.service)
	case l.code == "" || (l.dyno != "" && l.connect > 0):
		b = appendMillis(b, time.Since(l.start)-l.connect)
	}
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " bytes="...)
	if l.code == "" || l.bytes > 0 && l.dyno != "" {
		b = strconv.AppendInt(b, l.bytes, 10)
	}
	b = append(b, " protocol="...)
	if cc.https {
		b = append(b, "https"...)
	} else {
		b = append(b, "http"...)
	}
	rt.cfg.Logs.Log(app.ID, bulut.LogLine{Source: bulut.SourcePlatform, Process: "router", Text: string(b)})
	*buf = b
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func appendMillis(b []byte, d time.Duration) []byte {
	return append(strconv.AppendInt(b, d.Milliseconds(), 10), "ms"...)
}
