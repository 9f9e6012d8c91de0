package bulut_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func TestErrorCodeAndMessage(t *testing.T) {
	e := bulut.Errorf(bulut.ENOTFOUND, "Couldn't find that %s.", "app")
	wrapped := fmt.Errorf("find: %w", e)
	if bulut.ErrorCode(wrapped) != bulut.ENOTFOUND || bulut.ErrorMessage(wrapped) != "Couldn't find that app." {
		t.Fatalf("wrapped: %q %q", bulut.ErrorCode(wrapped), bulut.ErrorMessage(wrapped))
	}
	other := errors.New("disk on fire")
	if bulut.ErrorCode(other) != bulut.EINTERNAL || bulut.ErrorMessage(other) != "Internal error." {
		t.Fatal("a plain error must not leak its text")
	}
	if bulut.ErrorCode(nil) != "" || bulut.ErrorMessage(nil) != "" {
		t.Fatal("nil error")
	}
}

func TestErrorStatus(t *testing.T) {
	for code, status := range map[string]int{bulut.ENOTFOUND: 404, bulut.EINVALID: 422, bulut.EUNAUTHORIZED: 401, "nonsense": 500} {
		if got := bulut.ErrorStatus(code); got != status {
			t.Errorf("ErrorStatus(%s) = %d, want %d", code, got, status)
		}
	}
	for _, code := range []string{bulut.ENOTFOUND, bulut.EINVALID, bulut.ERANGE, bulut.ECONFLICT, bulut.EFORBIDDEN} {
		if got := bulut.ErrorCodeForStatus(bulut.ErrorStatus(code)); got != code {
			t.Errorf("round trip of %s gave %s", code, got)
		}
	}
}
