package bulut

import (
	"context"
	"regexp"
	"time"
)

// App is an application: a name, an owner, and (in later issues) its
// releases, formation and dynos.
type App struct {
	ID          string
	Name        string
	OwnerID     string
	OwnerEmail  string
	Region      string
	Stack       string
	Maintenance bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ReleasedAt  *time.Time // last deploy; nil until the first slug release
}

// Default values of an app's region and stack.
const (
	DefaultRegion = "local"
	DefaultStack  = "heroku-24"
)

// appNamePattern is Heroku's app name rule: 3 to 30 characters, lowercase
// letters, digits and dashes, starting with a letter, not ending with a dash.
var appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)

// ReservedAppNames are host names the platform itself answers on.
var ReservedAppNames = []string{"api", "git", "dashboard", "www", "admin", "status", "logs"}

// ValidateAppName returns an EINVALID error naming the problem when name
// can't be an app's name.
func ValidateAppName(name string) error {
	if name == "" {
		return &Error{Code: EINVALID, Resource: "app", Message: "Name must not be empty."}
	}
	if !appNamePattern.MatchString(name) {
		return &Error{Code: EINVALID, Resource: "app", Message: "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes, and be between 3 and 30 characters long."}
	}
	for _, r := range ReservedAppNames {
		if name == r {
			return &Error{Code: EINVALID, Resource: "app", Message: "Name " + name + " is reserved."}
		}
	}
	return nil
}

// ErrAppNameTaken is returned when another app (of any account) has the name.
func ErrAppNameTaken(name string) *Error {
	return &Error{Code: EINVALID, Resource: "app", Message: "Name " + name + " is already taken."}
}

// AppFilter selects apps. Apps are always scoped to the context's account
// unless the context is a system context.
type AppFilter struct {
	IDOrName *string
	Range    ListRange
}

// AppUpdate is a patch to an app; nil fields are left alone.
type AppUpdate struct {
	Name        *string
	Maintenance *bool
}

// AppService manages apps. Every method acts within the account of ctx
// (EUNAUTHORIZED without one): an app of another account is ENOTFOUND.
type AppService interface {
	// FindApp returns an app by ID or name. ENOTFOUND if it does not exist
	// or belongs to another account.
	FindApp(ctx context.Context, idOrName string) (*App, error)

	// FindApps lists apps within the filter's range. more reports whether
	// the range cut the list short (the next page starts after the last).
	FindApps(ctx context.Context, filter AppFilter) (apps []*App, more bool, err error)

	// CreateApp creates an app owned by the context's account. An empty
	// name gets a generated one. EINVALID for a bad, reserved or taken name.
	CreateApp(ctx context.Context, name string) (*App, error)

	// UpdateApp renames an app or toggles maintenance. Same errors as
	// FindApp and CreateApp.
	UpdateApp(ctx context.Context, idOrName string, upd AppUpdate) (*App, error)

	// DeleteApp deletes an app and returns it as it was. ENOTFOUND as FindApp.
	DeleteApp(ctx context.Context, idOrName string) (*App, error)
}
