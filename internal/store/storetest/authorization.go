package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// TokenPrefix starts every API token.
const TokenPrefix = "bulut_"

func authorizationTests() []group {
	return []group{
		{"AuthorizationService_Create", []test{
			{"OK", testCreateAuthorizationOK},
			{"Expiring", testCreateAuthorizationExpiring},
			{"ErrNegativeExpiresIn", testCreateAuthorizationErrNegativeExpiresIn},
		}},
		{"AuthorizationService_AuthenticateToken", []test{
			{"OK", testAuthenticateTokenOK},
			{"ErrUnknownToken", testAuthenticateTokenErrUnknownToken},
			{"ErrExpired", testAuthenticateTokenErrExpired},
		}},
		{"AuthorizationService_Delete", []test{
			{"OK", testDeleteAuthorizationOK},
			{"ErrNotFound", testDeleteAuthorizationErrNotFound},
			{"ErrOtherAccount", testDeleteAuthorizationErrOtherAccount},
		}},
	}
}

func loginSessionTests() []group {
	return []group{
		{"LoginSessionService_Create", []test{
			{"OK", testCreateLoginSessionOK},
		}},
		{"LoginSessionService_Find", []test{
			{"OK", testFindLoginSessionOK},
			{"ErrNotFound", testFindLoginSessionErrNotFound},
			{"ErrExpired", testFindLoginSessionErrExpired},
		}},
		{"LoginSessionService_Approve", []test{
			{"ErrNotFound", testApproveLoginSessionErrNotFound},
		}},
		{"LoginSessionService_Redeem", []test{
			{"OK", testRedeemLoginSessionOK},
			{"ErrPending", testRedeemLoginSessionErrPending},
			{"ErrWrongSecret", testRedeemLoginSessionErrWrongSecret},
			{"ErrNotFound", testRedeemLoginSessionErrNotFound},
			{"ErrExpired", testRedeemLoginSessionErrExpired},
			{"Concurrent", testRedeemLoginSessionConcurrent},
		}},
	}
}

// assertToken fails the test unless token authenticates as account
// accountID with authorization authzID.
func assertToken(t *testing.T, s Services, token, accountID, authzID string) {
	t.Helper()
	acct, z, err := s.Authorizations.AuthenticateToken(context.Background(), token)
	if err != nil {
		t.Fatalf("AuthenticateToken: %v", err)
	}
	if acct == nil || acct.ID != accountID {
		t.Fatalf("AuthenticateToken: account %+v, want %s", acct, accountID)
	}
	if z == nil || z.ID != authzID || z.AccountID != accountID {
		t.Fatalf("AuthenticateToken: authorization %+v, want ID %s of account %s", z, authzID, accountID)
	}
}

// assertTokenRejected fails the test unless token is EUNAUTHORIZED.
func assertTokenRejected(t *testing.T, s Services, token string) {
	t.Helper()
	acct, z, err := s.Authorizations.AuthenticateToken(context.Background(), token)
	assertCode(t, err, bulut.EUNAUTHORIZED)
	if acct != nil || z != nil {
		t.Fatalf("AuthenticateToken failed but returned %+v, %+v", acct, z)
	}
}

func testCreateAuthorizationOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	z, err := s.Authorizations.CreateAuthorization(context.Background(), a.ID, "laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", z.ID)
	if !strings.HasPrefix(z.Token, TokenPrefix) || len(z.Token) < len(TokenPrefix)+32 {
		t.Errorf("Token = %q, want %q followed by at least 32 characters", z.Token, TokenPrefix)
	}
	if z.AccountID != a.ID || z.Description != "laptop" || z.ExpiresAt != nil {
		t.Errorf("Authorization = %+v, want account %s, description laptop, no expiry", z, a.ID)
	}
	if z.CreatedAt.IsZero() {
		t.Error("CreatedAt not set")
	}

	// A second authorization gets another ID and token.
	z2 := mustCreateAuthorization(t, s, a.ID, 0)
	if z2.ID == z.ID || z2.Token == z.Token {
		t.Errorf("two authorizations share an ID or token: %+v, %+v", z, z2)
	}
	assertToken(t, s, z.Token, a.ID, z.ID)
	assertToken(t, s, z2.Token, a.ID, z2.ID)
}

func testCreateAuthorizationExpiring(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	z := mustCreateAuthorization(t, s, a.ID, time.Hour)
	if z.ExpiresAt == nil {
		t.Fatal("ExpiresAt = nil, want one hour from now")
	}
	assertTime(t, "ExpiresAt", *z.ExpiresAt, clock.Now().Add(time.Hour))
	_, got, err := s.Authorizations.AuthenticateToken(context.Background(), z.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExpiresAt == nil {
		t.Fatal("AuthenticateToken: ExpiresAt = nil")
	}
	assertTime(t, "AuthenticateToken: ExpiresAt", *got.ExpiresAt, *z.ExpiresAt)
}

func testCreateAuthorizationErrNegativeExpiresIn(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	_, err := s.Authorizations.CreateAuthorization(context.Background(), a.ID, "", -time.Hour)
	assertCode(t, err, bulut.EINVALID)
}

func testAuthenticateTokenOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	za, err := s.Authorizations.CreateAuthorization(context.Background(), a.ID, "alice's laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	zb := mustCreateAuthorization(t, s, b.ID, 0)

	acct, z, err := s.Authorizations.AuthenticateToken(context.Background(), za.Token)
	if err != nil {
		t.Fatal(err)
	}
	if acct.ID != a.ID || acct.Email != a.Email {
		t.Errorf("account = %s %s, want %s %s", acct.ID, acct.Email, a.ID, a.Email)
	}
	if z.ID != za.ID || z.AccountID != a.ID || z.Description != "alice's laptop" {
		t.Errorf("authorization = %+v, want %+v", z, za)
	}
	assertTime(t, "CreatedAt", z.CreatedAt, za.CreatedAt)
	// The token is in clear only in CreateAuthorization's result.
	if z.Token != "" {
		t.Errorf("AuthenticateToken returned the token %q; the store must not keep it", z.Token)
	}
	assertToken(t, s, zb.Token, b.ID, zb.ID)
}

func testAuthenticateTokenErrUnknownToken(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	z := mustCreateAuthorization(t, s, a.ID, 0)
	for _, token := range []string{"", TokenPrefix, TokenPrefix + "nope", z.Token + "x", z.Token[:len(z.Token)-1],
		strings.ToUpper(z.Token), z.ID} {
		assertTokenRejected(t, s, token)
	}
}

func testAuthenticateTokenErrExpired(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	expiring := mustCreateAuthorization(t, s, a.ID, time.Hour)
	forever := mustCreateAuthorization(t, s, a.ID, 0)

	clock.Advance(59 * time.Minute)
	assertToken(t, s, expiring.Token, a.ID, expiring.ID)

	clock.Advance(time.Minute) // exactly at ExpiresAt
	assertTokenRejected(t, s, expiring.Token)

	clock.Advance(time.Hour)
	assertTokenRejected(t, s, expiring.Token)

	clock.Advance(10 * 365 * 24 * time.Hour)
	assertToken(t, s, forever.Token, a.ID, forever.ID)
}

func testDeleteAuthorizationOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	z := mustCreateAuthorization(t, s, a.ID, 0)
	other := mustCreateAuthorization(t, s, a.ID, 0)
	assertToken(t, s, z.Token, a.ID, z.ID)

	if err := s.Authorizations.DeleteAuthorization(context.Background(), a.ID, z.ID); err != nil {
		t.Fatal(err)
	}
	assertTokenRejected(t, s, z.Token)
	// Only that one was revoked.
	assertToken(t, s, other.Token, a.ID, other.ID)
	// Twice is not found.
	assertCode(t, s.Authorizations.DeleteAuthorization(context.Background(), a.ID, z.ID), bulut.ENOTFOUND)
}

func testDeleteAuthorizationErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateAuthorization(t, s, a.ID, 0)
	for _, id := range []string{bulut.NewID(), "", "not-an-id"} {
		err := s.Authorizations.DeleteAuthorization(context.Background(), a.ID, id)
		if got := bulut.ErrorCode(err); got != bulut.ENOTFOUND {
			t.Errorf("DeleteAuthorization(%q): code %q, want %q (err: %v)", id, got, bulut.ENOTFOUND, err)
		}
	}
}

func testDeleteAuthorizationErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	z := mustCreateAuthorization(t, s, a.ID, 0)

	err := s.Authorizations.DeleteAuthorization(context.Background(), mallory.ID, z.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	assertToken(t, s, z.Token, a.ID, z.ID)
}

func mustCreateLoginSession(t *testing.T, s Services, description string) *bulut.LoginSession {
	t.Helper()
	ls, err := s.LoginSessions.CreateLoginSession(context.Background(), description)
	if err != nil {
		t.Fatalf("CreateLoginSession: %v", err)
	}
	return ls
}

func testCreateLoginSessionOK(t *testing.T, s Services) {
	clock := useClock(t, s)
	ls := mustCreateLoginSession(t, s, "bulut CLI on laptop")
	assertID(t, "ID", ls.ID)
	if len(ls.Secret) < 32 {
		t.Errorf("Secret = %q, want a long random secret", ls.Secret)
	}
	if ls.Description != "bulut CLI on laptop" || ls.AccountID != "" {
		t.Errorf("LoginSession = %+v, want the description and no account", ls)
	}
	assertTime(t, "CreatedAt", ls.CreatedAt, clock.Now())
	assertTime(t, "ExpiresAt", ls.ExpiresAt, clock.Now().Add(bulut.LoginSessionTTL))

	ls2 := mustCreateLoginSession(t, s, "")
	if ls2.ID == ls.ID || ls2.Secret == ls.Secret {
		t.Errorf("two login sessions share an ID or secret: %+v, %+v", ls, ls2)
	}
}

func testFindLoginSessionOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "bulut CLI")
	got, err := s.LoginSessions.FindLoginSession(context.Background(), ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ls.ID || got.Description != ls.Description || got.AccountID != "" {
		t.Errorf("FindLoginSession = %+v, want %+v", got, ls)
	}
	if got.Secret != "" {
		t.Errorf("FindLoginSession returned the secret %q; the store must not keep it", got.Secret)
	}
	assertTime(t, "ExpiresAt", got.ExpiresAt, ls.ExpiresAt)

	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	got, err = s.LoginSessions.FindLoginSession(context.Background(), ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != a.ID {
		t.Errorf("after approval AccountID = %q, want %q", got.AccountID, a.ID)
	}
}

func testFindLoginSessionErrNotFound(t *testing.T, s Services) {
	mustCreateLoginSession(t, s, "")
	for _, id := range []string{bulut.NewID(), "", "not-an-id"} {
		_, err := s.LoginSessions.FindLoginSession(context.Background(), id)
		if got := bulut.ErrorCode(err); got != bulut.ENOTFOUND {
			t.Errorf("FindLoginSession(%q): code %q, want %q (err: %v)", id, got, bulut.ENOTFOUND, err)
		}
	}
}

func testFindLoginSessionErrExpired(t *testing.T, s Services) {
	clock := useClock(t, s)
	ls := mustCreateLoginSession(t, s, "")
	clock.Advance(bulut.LoginSessionTTL - time.Minute)
	if _, err := s.LoginSessions.FindLoginSession(context.Background(), ls.ID); err != nil {
		t.Fatalf("FindLoginSession before the TTL: %v", err)
	}
	clock.Advance(2 * time.Minute)
	_, err := s.LoginSessions.FindLoginSession(context.Background(), ls.ID)
	assertCode(t, err, bulut.EEXPIRED)
}

func testApproveLoginSessionErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateLoginSession(t, s, "")
	for _, id := range []string{bulut.NewID(), "", "not-an-id"} {
		err := s.LoginSessions.ApproveLoginSession(context.Background(), id, a.ID)
		if got := bulut.ErrorCode(err); got != bulut.ENOTFOUND {
			t.Errorf("ApproveLoginSession(%q): code %q, want %q (err: %v)", id, got, bulut.ENOTFOUND, err)
		}
	}
}

func testRedeemLoginSessionOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "bulut CLI")
	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	z, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
	if err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", z.ID)
	if z.AccountID != a.ID {
		t.Errorf("AccountID = %q, want the approving account %q", z.AccountID, a.ID)
	}
	if !strings.HasPrefix(z.Token, TokenPrefix) {
		t.Errorf("Token = %q, want prefix %q", z.Token, TokenPrefix)
	}
	if z.Token == ls.Secret {
		t.Error("the token is the login session's secret")
	}
	assertToken(t, s, z.Token, a.ID, z.ID)

	// The session is used up.
	_, err = s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.LoginSessions.FindLoginSession(context.Background(), ls.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	// The authorization outlives it.
	assertToken(t, s, z.Token, a.ID, z.ID)
}

func testRedeemLoginSessionErrPending(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "")
	for range 2 { // polling does not use the session up
		_, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
		assertCode(t, err, bulut.EPENDING)
	}
	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret); err != nil {
		t.Fatalf("RedeemLoginSession after approval: %v", err)
	}
}

func testRedeemLoginSessionErrWrongSecret(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "")
	other := mustCreateLoginSession(t, s, "")
	wrong := []string{"", "wrong", ls.Secret + "x", other.Secret}

	// Before approval a wrong secret does not even learn that it's pending.
	for _, secret := range wrong {
		_, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, secret)
		assertCode(t, err, bulut.EUNAUTHORIZED)
	}
	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, secret := range wrong {
		z, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, secret)
		assertCode(t, err, bulut.EUNAUTHORIZED)
		if z != nil {
			t.Fatalf("RedeemLoginSession with a wrong secret returned %+v", z)
		}
	}
	// Wrong guesses do not burn the session for its owner.
	z, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
	if err != nil {
		t.Fatal(err)
	}
	assertToken(t, s, z.Token, a.ID, z.ID)
}

func testRedeemLoginSessionErrNotFound(t *testing.T, s Services) {
	ls := mustCreateLoginSession(t, s, "")
	_, err := s.LoginSessions.RedeemLoginSession(context.Background(), bulut.NewID(), ls.Secret)
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.LoginSessions.RedeemLoginSession(context.Background(), "not-an-id", ls.Secret)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testRedeemLoginSessionErrExpired(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "")
	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(bulut.LoginSessionTTL + time.Minute)
	_, err := s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
	assertCode(t, err, bulut.EEXPIRED)
}

// testRedeemLoginSessionConcurrent checks that a session is redeemed once
// even when the CLI's polls race.
func testRedeemLoginSessionConcurrent(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ls := mustCreateLoginSession(t, s, "")
	if err := s.LoginSessions.ApproveLoginSession(context.Background(), ls.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.LoginSessions.RedeemLoginSession(context.Background(), ls.ID, ls.Secret)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch bulut.ErrorCode(err) {
		case "":
			ok++
		case bulut.ENOTFOUND:
		default:
			t.Errorf("concurrent RedeemLoginSession: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent redemptions succeeded, want exactly 1", ok)
	}
}
