package bulut

import (
	"context"
	"strings"
	"time"
)

// Domain is a custom host name an app also answers on (besides its own
// APP.DOMAIN host).
type Domain struct {
	ID        string
	AppID     string
	Hostname  string // lower case
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DomainService manages apps' custom domains. Like AppService, it acts
// within the account of ctx: another account's app is ENOTFOUND.
type DomainService interface {
	// FindDomains lists an app's domains, oldest first.
	FindDomains(ctx context.Context, appIDOrName string) ([]*Domain, error)
	// CreateDomain adds a host name to an app. EINVALID for a bad host
	// name, ECONFLICT if an app (any account's) already has it.
	CreateDomain(ctx context.Context, appIDOrName, hostname string) (*Domain, error)
	// DeleteDomain removes a domain, by ID or host name, and returns it.
	DeleteDomain(ctx context.Context, appIDOrName, idOrHostname string) (*Domain, error)
	// FindDomain returns the domain of a host name, whatever its app's
	// account (for the router). ENOTFOUND if no app has it.
	FindDomain(ctx context.Context, hostname string) (*Domain, error)
}

// NormalizeHostname returns a host name in lower case without a trailing
// dot, or EINVALID: labels of letters, digits and hyphens (not at either
// end; a leading "*." wildcard is not supported), at least two labels, at
// most 253 characters.
func NormalizeHostname(h string) (string, error) {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	invalid := func(why string) error {
		return &Error{Code: EINVALID, Resource: "domain", Message: "Invalid hostname " + `"` + h + `": ` + why}
	}
	if h == "" {
		return "", &Error{Code: EINVALID, Resource: "domain", Message: "A domain needs a hostname."}
	}
	if len(h) > 253 {
		return "", invalid("it is longer than 253 characters.")
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return "", invalid("it needs at least two labels, as in www.example.com.")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", invalid("each label must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen.")
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", invalid("each label must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen.")
			}
		}
	}
	return h, nil
}
