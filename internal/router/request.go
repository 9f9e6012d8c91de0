package router

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// request is a client's request head, parsed for what the router acts on.
type request struct {
	head
	method, target span
	http10         bool
	host           []byte
	contentLength  int64 // -1: none
	chunked        bool
	close          bool // the client asked to close after this request
	upgrade        bool // Connection: upgrade, with an Upgrade header
	expect         []byte
	xff            []byte // prior X-Forwarded-For values, joined
	requestID      []byte
	via            []byte
	connTokens     []byte // the Connection header's value: headers to drop
	bad            string // why the request is refused (H26's cause), or ""
	bodyDone       bool   // the body was read (forwarded)
}

// parse reads what the router needs from the head; a request it can't
// forward gets r.bad set.
func (r *request) parse() {
	r.host, r.contentLength, r.chunked, r.close, r.upgrade = nil, -1, false, false, false
	r.expect, r.xff, r.requestID, r.via, r.connTokens, r.bad = nil, nil, nil, nil, nil, ""
	r.bodyDone = false
	if r.tooLarge {
		r.bad = "bad header"
	}
	var upgrade bool
	for _, f := range r.fields {
		name, value := r.bytes(f.name), r.bytes(f.value)
		switch {
		case equalFold(name, "host"):
			if r.host != nil {
				r.bad = "bad header" // duplicate Host headers are refused
			}
			r.host = value
		case equalFold(name, "content-length"):
			n, ok := parseContentLength(value)
			if !ok || r.contentLength >= 0 && r.contentLength != n {
				r.bad = "bad header"
			}
			r.contentLength = n
		case equalFold(name, "transfer-encoding"):
			r.chunked = lastToken(value, "chunked")
			if !r.chunked {
				r.bad = "bad header"
			}
		case equalFold(name, "connection"):
			r.connTokens = value
			if hasToken(value, "close") {
				r.close = true
			}
			if hasToken(value, "upgrade") {
				upgrade = true
			}
		case equalFold(name, "upgrade"):
			r.upgrade = true
		case equalFold(name, "expect"):
			r.expect = value
		case equalFold(name, "x-forwarded-for"):
			r.xff = joinValues(r.xff, value)
		case equalFold(name, "x-request-id"):
			r.requestID = value
		case equalFold(name, "via"):
			r.via = joinValues(r.via, value)
		}
	}
	r.upgrade = r.upgrade && upgrade
	if r.host == nil {
		r.bad = "bad header"
	}
	r.parseLine()
	if r.chunked {
		r.contentLength = -1 // chunked wins
	}
	if r.bad == "" && r.expect != nil && !equalFold(r.expect, "100-continue") {
		r.bad = "unsupported expect header value"
	}
}

// parseLine parses the request line: "METHOD TARGET HTTP/1.x", single
// spaces (the host is known by then, so the app gets its H26 line).
func (r *request) parseLine() {
	r.method, r.target = span{}, span{}
	line := r.bytes(r.line)
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 || sp1 > 127 {
		r.bad = "bad request line"
		return
	}
	r.method = span{r.line.start, r.line.start + int32(sp1)}
	r.target = span{r.line.start + int32(sp1) + 1, r.line.start + int32(sp2)}
	if bytes.IndexByte(r.bytes(r.target), ' ') >= 0 || !validMethod(r.bytes(r.method)) {
		r.bad = "bad request line"
		return
	}
	switch string(line[sp2+1:]) {
	case "HTTP/1.1":
		r.http10 = false
	case "HTTP/1.0":
		r.http10, r.close = true, true // Heroku assumes no keep-alive for 1.0 clients
	default:
		r.bad = "bad request line"
		return
	}
	if string(r.bytes(r.method)) == http.MethodConnect {
		r.bad = "bad request line"
		return
	}
}

// hasBody reports whether the request has a body to forward.
func (r *request) hasBody() bool { return r.chunked || r.contentLength > 0 }

// expectContinue reports whether the client waits for 100 Continue.
func (r *request) expectContinue() bool { return r.expect != nil && !r.http10 && r.hasBody() }

func joinValues(prior, v []byte) []byte {
	if prior == nil {
		return v
	}
	return append(append(append([]byte(nil), prior...), ", "...), v...)
}

// lastToken reports whether a list's last element is token.
func lastToken(list []byte, token string) bool {
	if i := bytes.LastIndexByte(list, ','); i >= 0 {
		list = list[i+1:]
	}
	return equalFold(bytes.TrimSpace(list), token)
}

func validMethod(m []byte) bool {
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return len(m) > 0
}

// hopByHop reports whether a request or response header is the
// connection's own, not to be forwarded: RFC 9110 7.6.1's and those the
// Connection header names.
func hopByHop(name, connTokens []byte) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "te")
	case 7:
		return equalFold(name, "upgrade") || equalFold(name, "trailer")
	case 10:
		return equalFold(name, "connection") || equalFold(name, "keep-alive")
	case 16:
		return equalFold(name, "proxy-connection")
	case 17:
		return equalFold(name, "transfer-encoding")
	}
	return connTokens != nil && hasToken(connTokens, name)
}

// replaced reports whether a request header is one the router sets itself.
func replaced(name []byte) bool {
	if len(name) < 3 {
		return false
	}
	switch name[0] | 0x20 {
	case 'h':
		return equalFold(name, "host")
	case 'c':
		return equalFold(name, "content-length")
	case 'e':
		return equalFold(name, "expect")
	case 'v':
		return equalFold(name, "via")
	case 'x':
		return equalFold(name, "x-forwarded-for") || equalFold(name, "x-forwarded-proto") ||
			equalFold(name, "x-forwarded-port") || equalFold(name, "x-forwarded-host") ||
			equalFold(name, "x-request-start") || equalFold(name, "x-request-id")
	}
	return false
}

var requestIDChars = func() (ok [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-") {
		ok[c] = true
	}
	return ok
}()

// validRequestID reports whether an incoming X-Request-Id is kept, as
// Heroku's router keeps 20 to 200 characters of [A-Za-z0-9+/=_-].
func validRequestID(id []byte) bool {
	if len(id) < 20 || len(id) > 200 {
		return false
	}
	for _, c := range id {
		if !requestIDChars[c] {
			return false
		}
	}
	return true
}

// appendStatusLine appends "HTTP/1.1 CODE REASON\r\n".
func appendStatusLine(b []byte, code int, reason string) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	return append(b, "\r\n"...)
}

func appendLength(b []byte, n int64) []byte {
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "\r\n"...)
}

func appendField(b []byte, name string, value []byte) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}
