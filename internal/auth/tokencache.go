package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"
)

// tokenCache remembers access tokens that passed validation, so that a client sending
// the same token again (the common case: an app reuses its token until it expires)
// costs a hash and a map lookup instead of an RSA verification and two JSON parses.
//
// An entry lives until the token's exp or maxAge, whichever comes first; maxAge bounds
// how long a token stays accepted after its signing key is revoked from the JWKS
// (the JWKS cache adds its own TTL to that). The cache holds at most max entries; when
// full, an arbitrary entry is evicted (map iteration order), which is O(1) and good
// enough when the working set is far smaller than max.
type tokenCache struct {
	maxAge time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	claims *validator.ValidatedClaims // never mutated after validation
	until  time.Time
}

func newTokenCache(max int, maxAge time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{max: max, maxAge: maxAge, now: now, entries: make(map[[sha256.Size]byte]cachedToken)}
}

func (c *tokenCache) get(token string) (*validator.ValidatedClaims, bool) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.until) {
		delete(c.entries, key)
		return nil, false
	}
	return e.claims, true
}

func (c *tokenCache) put(token string, claims *validator.ValidatedClaims) {
	now := c.now()
	until := now.Add(c.maxAge)
	if exp := time.Unix(claims.RegisteredClaims.Expiry, 0); exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cachedToken{claims: claims, until: until}
}

// flush forgets every entry (the signing keys changed).
func (c *tokenCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
