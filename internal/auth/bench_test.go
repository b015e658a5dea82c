package auth

// Benchmarks of bearer-token verification, the largest part of the hot path (see
// BENCHMARKS.md and cmd/linkbff/bench_test.go), and of the key cache it reads.

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

const (
	benchClientID = "linkbff-dev-client" // the demo seed's web application
	benchAudience = "https://linkbff.example/api"
)

// BenchmarkBearer is Bearer.Middleware alone with warm keys and one valid access
// token: everything linkbff does to authenticate a request, nothing else. "cached"
// is the default Bearer, which after the first request answers from its token cache;
// "uncached" disables that cache, so every request verifies the token in full, as a
// token's first request does; it also reports x-rs256, its time over the one RS256
// signature check it cannot avoid (rs256Check), measured in 500 interleaved pairs
// after the timed loop and divided as medians.
func BenchmarkBearer(b *testing.B) {
	tenant, keys, tok := benchTenantAlice(b)
	for _, c := range []struct {
		name       string
		cacheBytes int
	}{{"cached", 0}, {"uncached", -1}} {
		bearer, err := NewBearer(BearerConfig{
			Issuer: tenant.Issuer(), Audience: benchAudience, Keys: keys, CacheBytes: c.cacheBytes,
			OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
				http.Error(w, err.Error(), http.StatusUnauthorized)
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		h := bearer.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := FromContext(r.Context()); !ok {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
		r := httptest.NewRequest(http.MethodGet, "/me/identities", nil)
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		serve := func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
			if c.cacheBytes < 0 {
				check := rs256Check(b, keys, tok.AccessToken)
				b.ReportMetric(interleaved(500, check, serve), "x-rs256")
			}
		})
	}
}

// BenchmarkKeySourceRefresh calls Keys with the signing kid on a warm KeySource whose
// cache expires every 50ms, while the tenant takes 20ms to answer the JWKS. It
// reports max-stall-ms, the slowest call: a request should never wait for a
// background refresh of keys it already has, so want well under 1ms; a figure near
// 20 means every expiry holds up all requests for one JWKS round trip.
func BenchmarkKeySourceRefresh(b *testing.B) {
	tenant := devtenanttest.Start(b, devtenant.Options{})
	keys, err := NewKeySource(KeySourceConfig{Issuer: tenant.Issuer(), CacheTTL: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	kid := tenant.SigningKeyID()
	if _, err := keys.Keys(ctx, kid); err != nil {
		b.Fatal(err)
	}
	tenant.InjectFault(devtenant.EndpointJWKS, devtenant.Fault{Latency: devtenant.Duration(20 * time.Millisecond)})
	tenant.ResetRequests()
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := keys.Keys(ctx, kid); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-stall-ms")
	b.ReportMetric(float64(tenant.RequestCount(devtenant.EndpointJWKS)), "jwks-fetches")
}

// BenchmarkTokenCacheMemory measures what one token-cache entry really holds on the
// heap (the token, its validated claims, the Principal, the map's share) against
// what the cache charges for it (entryCost), so that the byte bound is honest:
// heap-B/entry must stay at or below charged-B/entry.
func BenchmarkTokenCacheMemory(b *testing.B) {
	tenant := devtenanttest.Start(b, devtenant.Options{})
	keys, err := NewKeySource(KeySourceConfig{Issuer: tenant.Issuer()})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: benchClientID, Audience: benchAudience,
		AccessTokenClaims: map[string]any{"scope": "openid profile email read:identities write:identities"}})
	if err != nil {
		b.Fatal(err)
	}
	bearer, err := NewBearer(BearerConfig{Issuer: tenant.Issuer(), Audience: benchAudience, Keys: keys, CacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	var before, after runtime.MemStats
	c := newTokenCache(1<<30, time.Hour, time.Now)
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		// A Principal decoded afresh for each entry, under a distinct key of the token's
		// length, as distinct tokens would be.
		v, err := bearer.validate(context.Background(), tok.AccessToken)
		if err != nil {
			b.Fatal(err)
		}
		key := tok.AccessToken[:len(tok.AccessToken)-6] + fmt.Sprintf("%06d", i)
		c.put(key, time.Now().Add(time.Hour), v.(*Principal))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for b.Loop() { // one measurement: the figures are per entry, not per op
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/entry")
	b.ReportMetric(float64(c.bytes)/n, "charged-B/entry")
	b.ReportMetric(float64(len(tok.AccessToken)), "token-B")
	runtime.KeepAlive(c)
}

// BenchmarkRS256Verify is the one RSA signature check a token's first request cannot
// avoid (rs256Check), and nothing else: the floor that Bearer/uncached is compared
// with.
func BenchmarkRS256Verify(b *testing.B) {
	_, keys, tok := benchTenantAlice(b)
	check := rs256Check(b, keys, tok.AccessToken)
	b.ReportAllocs()
	for b.Loop() {
		check()
	}
}

// rs256Check returns the RSASSA-PKCS1-v1_5 SHA-256 check of token's signature with
// its signing key from keys (2048 bits for the dev tenant): SHA-256 of the signing
// input and one RSA public-key operation.
func rs256Check(b *testing.B, keys *KeySource, token string) func() {
	b.Helper()
	h, err := checkCompact(token, accessTokenKind)
	if err != nil {
		b.Fatal(err)
	}
	set, err := keys.Keys(context.Background(), h.Kid)
	if err != nil {
		b.Fatal(err)
	}
	found := set.Key(h.Kid)
	if len(found) == 0 {
		b.Fatal("signing key not in the JWKS")
	}
	pub, ok := found[0].Key.(*rsa.PublicKey)
	if !ok {
		b.Fatalf("signing key is a %T", found[0].Key)
	}
	dot := strings.LastIndexByte(token, '.')
	input := token[:dot]
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		sum := sha256.Sum256([]byte(input))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// interleaved times rounds pairs of base and f, alternating which goes first, and
// returns median(f)/median(base) (see cmd/linkbff's interleavedRatio).
func interleaved(rounds int, base, f func()) float64 {
	baseNs, fNs := make([]time.Duration, rounds), make([]time.Duration, rounds)
	timed := func(g func()) time.Duration {
		start := time.Now()
		g()
		return time.Since(start)
	}
	for i := range rounds {
		if i%2 == 0 {
			baseNs[i], fNs[i] = timed(base), timed(f)
		} else {
			fNs[i], baseNs[i] = timed(f), timed(base)
		}
	}
	slices.Sort(baseNs)
	slices.Sort(fNs)
	return float64(fNs[rounds/2]) / float64(baseNs[rounds/2])
}

// benchTenantAlice starts a tenant and returns it, a key source on it and an access
// token of alice for the benchmarks' API.
func benchTenantAlice(b *testing.B) (*devtenant.Tenant, *KeySource, devtenant.Tokens) {
	b.Helper()
	tenant := devtenanttest.Start(b, devtenant.Options{})
	keys, err := NewKeySource(KeySourceConfig{Issuer: tenant.Issuer()})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: benchClientID, Audience: benchAudience})
	if err != nil {
		b.Fatal(err)
	}
	return tenant, keys, tok
}
