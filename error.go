package bulut

import (
	"errors"
	"fmt"
)

// Error codes. They are the "id" of Heroku's error shape
// ({"id":"not_found","message":"..."}), so they cross the wire unchanged.
const (
	EBADREQUEST    = "bad_request"
	ECONFLICT      = "conflict"
	EFORBIDDEN     = "forbidden"
	EINTERNAL      = "internal_server_error"
	EINVALID       = "invalid_params"
	ENOTACCEPTABLE = "not_acceptable"
	ENOTFOUND      = "not_found"
	ERANGE         = "requested_range_not_satisfiable"
	ERATELIMIT     = "rate_limit"
	ETOOLARGE      = "request_entity_too_large"
	EUNAUTHORIZED  = "unauthorized"
	EUNSUPPORTED   = "unsupported_media_type"
	EMETHOD        = "method_not_allowed"
	ESIGNUPCLOSED  = "signup_closed"
	EPENDING       = "authorization_pending"
	EEXPIRED       = "expired"
)

// Error is an error meant for users: a machine-readable Code and a Message
// that is a full sentence, safe to show. Resource optionally names the kind of
// thing the error is about ("app", "account").
type Error struct {
	Code     string
	Message  string
	Resource string
}

func (e *Error) Error() string {
	return fmt.Sprintf("bulut error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, "" for nil and EINTERNAL for
// any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the message of its
// *Error, or "Internal error." for anything else, whose details stay in logs.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// NotFound is the error for a resource the caller can't see, whether it does
// not exist or belongs to another account: the two are indistinguishable.
func NotFound(resource string) *Error {
	return &Error{Code: ENOTFOUND, Message: "Couldn't find that " + resource + ".", Resource: resource}
}

// errorStatuses is the one map from error codes to HTTP statuses, used
// by the API, the dashboard and the client (in reverse).
var errorStatuses = map[string]int{
	EPENDING:       202,
	EBADREQUEST:    400,
	EUNAUTHORIZED:  401,
	EFORBIDDEN:     403,
	ESIGNUPCLOSED:  403,
	ENOTFOUND:      404,
	EMETHOD:        405,
	ENOTACCEPTABLE: 406,
	ECONFLICT:      409,
	EEXPIRED:       410,
	ETOOLARGE:      413,
	EUNSUPPORTED:   415,
	ERANGE:         416,
	EINVALID:       422,
	ERATELIMIT:     429,
	EINTERNAL:      500,
}

// ErrorStatus returns the HTTP status of an error code (500 if unknown).
func ErrorStatus(code string) int {
	if s, ok := errorStatuses[code]; ok {
		return s
	}
	return 500
}

// ErrorCodeForStatus returns the error code of an HTTP error status, for
// answers that carry no code of their own (EINTERNAL if none fits).
func ErrorCodeForStatus(status int) string {
	if status == 403 { // the one status two codes share
		return EFORBIDDEN
	}
	for code, s := range errorStatuses {
		if s == status {
			return code
		}
	}
	return EINTERNAL
}
