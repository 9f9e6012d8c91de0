// Package bulut is the domain of a self-hosted Heroku: the nouns of the
// platform (accounts, apps, releases, dynos...) and the service interfaces
// that the adapters under internal/ implement. It imports only the standard
// library; internal/server is the one place that wires adapters together.
package bulut

// Version is the build's version, set with -ldflags at release time.
var Version = "dev"

// ReportError is called with internal errors that reach the edge (API,
// dashboard). It is a no-op by default; main may swap it for a reporter.
var ReportError = func(err error, args ...any) {}
