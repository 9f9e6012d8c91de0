package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// errorBody is Heroku's error shape.
type errorBody struct {
	ID       string `json:"id"`
	Message  string `json:"message"`
	Resource string `json:"resource,omitempty"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	code := bulut.ErrorCode(err)
	if code == bulut.EINTERNAL {
		h.log.Error("internal error", "error", err, "request_id", requestID, "method", r.Method, "path", r.URL.Path)
		bulut.ReportError(err, "request_id", requestID)
	}
	body := errorBody{ID: code, Message: bulut.ErrorMessage(err)}
	var e *bulut.Error
	if errors.As(err, &e) {
		body.Resource = e.Resource
	}
	if code == bulut.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bulut"`)
	}
	writeJSON(w, r, bulut.ErrorStatus(code), body)
}

// writeJSON writes v as the response body; `indent=N` in the Accept header
// asks for indented output, as Heroku allows.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if strings.Contains(r.Header.Get("Accept"), "indent=") {
		enc.SetIndent("", "  ")
	}
	enc.Encode(v)
}

// decodeJSON reads a JSON request body into v. An empty body leaves v as
// it is. Syntax errors are bad_request, wrong types invalid_params, an
// oversized body request_entity_too_large.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return bulut.Errorf(bulut.EUNSUPPORTED, "Request bodies must be JSON (Content-Type: application/json), not %q.", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		if dec.More() {
			return bulut.Errorf(bulut.EBADREQUEST, "Invalid JSON: unexpected data after the top-level value.")
		}
		return nil
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooLarge):
		return bulut.Errorf(bulut.ETOOLARGE, "Request body is larger than %d bytes.", tooLarge.Limit)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return bulut.Errorf(bulut.EBADREQUEST, "Invalid JSON: the body must be a JSON %s.", "object")
		}
		return bulut.Errorf(bulut.EINVALID, "Invalid type for %s: expected %s, got %s.", field, typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return bulut.Errorf(bulut.EBADREQUEST, "Invalid JSON: %s at byte %d.", syntaxErr.Error(), syntaxErr.Offset)
	default:
		return bulut.Errorf(bulut.EBADREQUEST, "Invalid JSON: %s.", err.Error())
	}
}

// acceptsV3 reports whether an Accept header asks for API version 3
// (application/vnd.heroku+json; version=3, or a 3.x variant).
func acceptsV3(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "application/vnd.heroku+json" {
				continue
			}
			if ver := params["version"]; ver == "3" || strings.HasPrefix(ver, "3.") {
				return true
			}
		}
	}
	return false
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9+/=._,:-]{1,200}$`)

// requestIDFrom keeps a well-formed incoming Request-Id (clients send UUIDs
// or comma lists of them) after a fresh one of ours, else a fresh one.
func requestIDFrom(r *http.Request) string {
	id := bulut.NewID()
	if in := r.Header.Get("Request-Id"); requestIDPattern.MatchString(in) {
		return id + "," + in
	}
	return id
}

// clientIP is the remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func itoa(n int) string { return strconv.Itoa(n) }

// listRange parses the Range header of a list endpoint.
func listRange(r *http.Request, defaultField string, allowed ...string) (bulut.ListRange, error) {
	return bulut.ParseListRange(r.Header.Get("Range"), defaultField, allowed...)
}

// writeList writes a page of a list: 200 when complete, else 206 with the
// Next-Range to ask for the rest.
func writeList(w http.ResponseWriter, r *http.Request, rng bulut.ListRange, items any, more bool, lastValue string, allowed ...string) {
	w.Header().Set("Accept-Ranges", strings.Join(allowed, ", "))
	status := http.StatusOK
	if more {
		w.Header().Set("Next-Range", rng.Next(lastValue))
		status = http.StatusPartialContent
	}
	writeJSON(w, r, status, items)
}
