package api_test

import (
	"os"
	"testing"

	"github.com/bulut-bulut/bulut/internal/dynoinit"
)

// TestMain lets the test binary be the dyno init of the servers the
// tests start (testenv makes it their executable): `bulut dyno-init`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "dyno-init" {
		os.Exit(dynoinit.Main(os.Args[2:]))
	}
	os.Exit(m.Run())
}
