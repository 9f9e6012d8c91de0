package client

import "time"

// SetMinPollInterval shortens the pause between login polls in tests and
// returns a function restoring it.
func SetMinPollInterval(d time.Duration) (restore func()) {
	old := minPollInterval
	minPollInterval = d
	return func() { minPollInterval = old }
}
