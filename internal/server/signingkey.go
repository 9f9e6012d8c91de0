package server

import (
	"crypto/rand"
	"fmt"
	"os"
)

// loadSigningKey returns the server's key for signed URLs (build output,
// slug downloads), creating it on first start so URLs survive restarts.
func loadSigningKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return key, os.Rename(tmp, path)
}
