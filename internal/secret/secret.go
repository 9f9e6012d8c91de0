// Package secret hashes passwords and mints API tokens. Passwords use bcrypt
// (slow on purpose); tokens are 256 random bits, so a fast SHA-256 hash is
// enough to make a stolen database useless for logging in.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// TokenPrefix starts every API token so leaked ones are easy to spot.
const TokenPrefix = "bulut_"

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is compared against when an account does not exist, so that a
// login for an unknown e-mail takes as long as one with a wrong password.
// It is made on first use: every bulut process (CLI commands, dyno init)
// would otherwise pay a bcrypt hash at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("bulut-timing-equaliser")
	return h
})

// BurnPasswordCheck spends the time of one password check.
func BurnPasswordCheck(password string) { CheckPassword(dummyHash(), password) }

// NewToken returns a new random token.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the hex SHA-256 of a token, the form tokens are stored in.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
