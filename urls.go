package bulut

import (
	"net"
	"strconv"
	"strings"
)

// URLs builds the platform's public URLs from its domain and port. One
// listener answers them all; the Host header tells which part is meant.
type URLs struct {
	Scheme string // "http" or "https"
	Domain string // e.g. "localhost"
	Port   int    // public port; 0, 80 with http or 443 with https is omitted
}

func (u URLs) hostPort(host string) string {
	if u.Port == 0 || (u.Scheme == "http" && u.Port == 80) || (u.Scheme == "https" && u.Port == 443) {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(u.Port))
}

func (u URLs) base(host string) string { return u.Scheme + "://" + u.hostPort(host) }

// APIHost, GitHost and DashboardHost are the host names (without port) of
// the platform's parts.
func (u URLs) APIHost() string       { return "api." + u.Domain }
func (u URLs) GitHost() string       { return "git." + u.Domain }
func (u URLs) DashboardHost() string { return "dashboard." + u.Domain }

// AppHost is the host name an app answers on.
func (u URLs) AppHost(app string) string { return app + "." + u.Domain }

// APIURL is the Platform API's base URL, without a trailing slash.
func (u URLs) APIURL() string { return u.base(u.APIHost()) }

// DashboardURL is the dashboard's base URL with a trailing slash.
func (u URLs) DashboardURL() string { return u.base(u.DashboardHost()) + "/" }

// WebURL is an app's URL with a trailing slash.
func (u URLs) WebURL(app string) string { return u.base(u.AppHost(app)) + "/" }

// GitURL is the URL of an app's git repository.
func (u URLs) GitURL(app string) string { return u.base(u.GitHost()) + "/" + app + ".git" }

// Part names what a request's host addresses.
type Part int

const (
	PartAPI       Part = iota // api.DOMAIN, IP addresses, other names of this machine
	PartBare                  // the bare domain: the API, or the dashboard for browsers
	PartDashboard             // dashboard.DOMAIN
	PartGit                   // git.DOMAIN
	PartApp                   // APP.DOMAIN or any other host (custom domains)
)

// Classify tells which part of the platform a Host header addresses and,
// for PartApp, the host name to route (port and trailing dot removed,
// lowercased).
func (u URLs) Classify(hostHeader string) (Part, string) {
	host := strings.ToLower(hostHeader)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	domain := strings.ToLower(u.Domain)
	switch {
	case host == "" || (host[0] >= '0' && host[0] <= '9' || host[0] == ':') && net.ParseIP(host) != nil:
		return PartAPI, host
	case host == domain:
		return PartBare, host
	case host == "localhost" && domain != "localhost":
		return PartBare, host
	}
	// Allocation free: the router classifies every request.
	if n := len(host) - len(domain) - 1; n > 0 && host[n] == '.' && host[n+1:] == domain {
		switch host[:n] {
		case "api":
			return PartAPI, host
		case "dashboard":
			return PartDashboard, host
		case "git":
			return PartGit, host
		}
	}
	return PartApp, host
}

// AppNameFromHost returns the app name of an APP.DOMAIN host, or "" when the
// host is not directly under the domain (a custom domain).
func (u URLs) AppNameFromHost(host string) string {
	name, ok := strings.CutSuffix(host, "."+strings.ToLower(u.Domain))
	if !ok || strings.Contains(name, ".") {
		return ""
	}
	return name
}
