package auth

import (
	"testing"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"
)

func claimsExpiringAt(t time.Time) *validator.ValidatedClaims {
	return &validator.ValidatedClaims{RegisteredClaims: validator.RegisteredClaims{Subject: "auth0|alice", Expiry: t.Unix()}}
}

func TestTokenCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	c := newTokenCache(2, time.Minute, clock)

	c.put("a", claimsExpiringAt(now.Add(time.Hour)))
	if got, ok := c.get("a"); !ok || got.RegisteredClaims.Subject != "auth0|alice" {
		t.Fatalf("get after put = %v, %v", got, ok)
	}
	if _, ok := c.get("b"); ok {
		t.Error("hit for a token never put")
	}

	// maxAge bounds an entry even when the token lives longer.
	now = now.Add(time.Minute)
	if _, ok := c.get("a"); ok {
		t.Error("entry outlived maxAge")
	}

	// exp bounds an entry when it comes first.
	c.put("short", claimsExpiringAt(now.Add(10*time.Second)))
	now = now.Add(10 * time.Second)
	if _, ok := c.get("short"); ok {
		t.Error("entry outlived the token's exp")
	}

	// An already expired token is not cached.
	c.put("expired", claimsExpiringAt(now.Add(-time.Second)))
	if _, ok := c.get("expired"); ok {
		t.Error("expired token cached")
	}

	// The size bound holds.
	for _, tok := range []string{"x", "y", "z"} {
		c.put(tok, claimsExpiringAt(now.Add(time.Hour)))
	}
	if n := len(c.entries); n > 2 {
		t.Errorf("%d entries, bound is 2", n)
	}

	c.flush()
	for _, tok := range []string{"x", "y", "z"} {
		if _, ok := c.get(tok); ok {
			t.Errorf("%s survived flush", tok)
		}
	}
}
