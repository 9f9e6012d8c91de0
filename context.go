package bulut

import "context"

type contextKey int

const (
	accountContextKey contextKey = iota
	systemContextKey
)

// NewContextWithAccount returns a context acting for an account: services
// scope what they read and change to that account's resources.
func NewContextWithAccount(ctx context.Context, a *Account) context.Context {
	return context.WithValue(ctx, accountContextKey, a)
}

// AccountFromContext returns the account a context acts for, or nil.
func AccountFromContext(ctx context.Context) *Account {
	a, _ := ctx.Value(accountContextKey).(*Account)
	return a
}

// AccountIDFromContext returns the ID of the account a context acts for, or "".
func AccountIDFromContext(ctx context.Context) string {
	if a := AccountFromContext(ctx); a != nil {
		return a.ID
	}
	return ""
}

// NewSystemContext returns a context for the platform itself (router,
// scheduler): services do not scope it to an account. Never derive one from
// user input.
func NewSystemContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemContextKey, true)
}

// IsSystemContext reports whether ctx acts for the platform itself.
func IsSystemContext(ctx context.Context) bool {
	v, _ := ctx.Value(systemContextKey).(bool)
	return v
}
