package auth

import (
	"strings"
	"testing"
	"time"
)

var alicePrincipal = &Principal{Subject: "auth0|alice", Method: "bearer"}

func TestTokenCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	c := newTokenCache(1<<20, time.Minute, clock)

	c.put("a", now.Add(time.Hour), alicePrincipal)
	if got, ok := c.get("a"); !ok || got.principal != alicePrincipal {
		t.Fatalf("get after put = %+v, %v", got, ok)
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
	c.put("short", now.Add(10*time.Second), alicePrincipal)
	now = now.Add(10 * time.Second)
	if _, ok := c.get("short"); ok {
		t.Error("entry outlived the token's exp")
	}

	// An already expired token is not cached, nor one that makes no principal.
	c.put("expired", now.Add(-time.Second), alicePrincipal)
	if _, ok := c.get("expired"); ok {
		t.Error("expired token cached")
	}
	c.put("no-sub", now.Add(time.Hour), nil)
	if _, ok := c.get("no-sub"); ok {
		t.Error("token without a principal cached")
	}

	c.put("x", now.Add(time.Hour), alicePrincipal)
	c.flush()
	if _, ok := c.get("x"); ok || c.bytes != 0 || len(c.entries) != 0 {
		t.Errorf("after flush: %d entries, %d bytes", len(c.entries), c.bytes)
	}
}

// The key is the exact token: another spelling of the same bytes (a token that
// differs in one character) is a miss.
func TestTokenCacheKeysOnExactBytes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(1<<20, time.Minute, func() time.Time { return now })
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
	c.put(tok, now.Add(time.Hour), alicePrincipal)
	for _, other := range []string{tok[:len(tok)-1] + "m", tok + " ", strings.ToUpper(tok), tok[:len(tok)-1]} {
		if _, ok := c.get(other); ok {
			t.Errorf("hit for %q, a token never put", other)
		}
	}
	if _, ok := c.get(strings.Clone(tok)); !ok {
		t.Error("miss for the token itself")
	}
}

// The cache never charges more than maxBytes: inserts evict, and a token too large
// for the bound is not cached.
func TestTokenCacheByteBound(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := func(i int) string { return strings.Repeat("t", 1000) + string(rune('A'+i)) }
	max := 10*entryCost(tok(0)) + entryCost(tok(0))/2 // room for 10
	c := newTokenCache(max, time.Minute, func() time.Time { return now })
	for i := range 30 {
		c.put(tok(i), now.Add(time.Hour), alicePrincipal)
		if c.bytes > max {
			t.Fatalf("after %d puts: %d bytes charged, bound %d", i+1, c.bytes, max)
		}
	}
	if len(c.entries) != 10 {
		t.Errorf("%d entries, want 10 (the bound's worth)", len(c.entries))
	}
	if _, ok := c.get(tok(29)); !ok {
		t.Error("the last token put was evicted by its own insert")
	}
	sum := 0
	for k := range c.entries {
		sum += entryCost(k)
	}
	if sum != c.bytes {
		t.Errorf("entries cost %d, counter says %d", sum, c.bytes)
	}
	// Putting a token again replaces its entry without charging it twice.
	c.put(tok(29), now.Add(time.Hour), alicePrincipal)
	if c.bytes != sum {
		t.Errorf("re-put changed the charge from %d to %d", sum, c.bytes)
	}

	huge := strings.Repeat("h", max)
	c.put(huge, now.Add(time.Hour), alicePrincipal)
	if _, ok := c.get(huge); ok {
		t.Error("a token over an eighth of the bound was cached")
	}
}

func TestBearerKey(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
		ok    bool
	}{
		{[]string{"Bearer abc.def.ghi"}, "abc.def.ghi", true},
		{[]string{"bearer abc"}, "abc", true},
		{[]string{"BEARER abc"}, "abc", true},
		{[]string{"Bearer abc", "Bearer other"}, "abc", true}, // the first line, as the extractor reads it
		// Keys no cached token can equal (a cached one passed checkCompact): they miss,
		// and the extractor reads the header (TestBearerMiddlewareCachedToken).
		{[]string{"Bearer  abc"}, " abc", true},
		{[]string{"Bearer abc "}, "abc ", true},
		{[]string{"Bearer a bc"}, "a bc", true},
		{[]string{"Bearer ab\u00e9"}, "ab\u00e9", true},
		{[]string{"Bearer\tabc"}, "", false},
		{[]string{"Bearer "}, "", false},
		{[]string{"Basic abc"}, "", false},
		{[]string{"Bearerabc"}, "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		got, ok := bearerKey(tt.lines)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerKey(%q) = %q, %v; want %q, %v", tt.lines, got, ok, tt.want, tt.ok)
		}
	}
}
