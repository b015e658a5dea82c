package auth

import (
	"strings"
	"sync"
	"time"
)

// tokenCache remembers access tokens that passed validation, so that a client sending
// the same token again (the common case: an app reuses its token until it expires)
// costs a map lookup instead of an RSA verification and two JSON parses.
//
// It is keyed by the token itself, so a hit needs the exact bytes that were verified
// (any other spelling of a token is a miss, verified in full), and a lookup neither
// hashes nor allocates. The price is memory: an entry holds the token and the
// Principal built from its claims. Each entry is charged entryCost (twice the token's
// length, since the Principal's strings were decoded from it, plus entryOverhead for
// the structs and the map), and the cache holds at most maxBytes of such charges: with Auth0's
// access tokens of about 1 KB, the default 8 MiB is some 3,000 tokens. When full, an
// arbitrary entry is evicted (map iteration order), which is O(1) and good enough when
// the working set is far smaller than the bound; a token larger than an eighth of
// the bound is not cached at all.
//
// An entry lives until the token's exp or maxAge, whichever comes first; maxAge bounds
// how long a token stays accepted after its signing key is revoked from the JWKS
// (the JWKS cache adds its own TTL to that).
type tokenCache struct {
	maxAge   time.Duration
	maxBytes int
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*cachedToken
	bytes   int // sum of the entries' costs
}

type cachedToken struct {
	principal *Principal // built once from the verified claims; read only
	until     time.Time
}

// entryOverhead is what an entry costs beyond its token and its Principal's strings:
// the cachedToken and Principal structs, slice headers and the map's own share.
// BenchmarkTokenCacheMemory checks the charge against the heap an entry really holds
// (for a dev-tenant token of 750 bytes: 1.1 KB held, 2.1 KB charged).
const entryOverhead = 640

func entryCost(token string) int { return 2*len(token) + entryOverhead }

func newTokenCache(maxBytes int, maxAge time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{maxBytes: maxBytes, maxAge: maxAge, now: now, entries: make(map[string]*cachedToken)}
}

// get returns the cached entry of token, if it is live.
func (c *tokenCache) get(token string) (*cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[token]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.until) {
		c.dropLocked(token)
		return nil, false
	}
	return e, true
}

// put caches the Principal of token, which expires at exp. A nil p is not cached.
func (c *tokenCache) put(token string, exp time.Time, p *Principal) {
	cost := entryCost(token)
	if p == nil || cost > c.maxBytes/8 {
		return
	}
	now := c.now()
	until := now.Add(c.maxAge)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	// The key is a copy: the caller's string may share memory with the request.
	token = strings.Clone(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[token]; ok {
		c.dropLocked(token)
	}
	for k := range c.entries {
		if c.bytes+cost <= c.maxBytes {
			break
		}
		c.dropLocked(k)
	}
	c.entries[token] = &cachedToken{principal: p, until: until}
	c.bytes += cost
}

func (c *tokenCache) dropLocked(token string) {
	delete(c.entries, token)
	c.bytes -= entryCost(token)
}

// flush forgets every entry (the signing keys changed).
func (c *tokenCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.bytes = 0
}
