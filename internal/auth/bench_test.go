package auth

// Benchmarks of bearer-token verification, the largest part of the hot path (see
// BENCHMARKS.md and cmd/linkbff/bench_test.go), and of the key cache it reads.

import (
	"context"
	"net/http"
	"net/http/httptest"
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
// token's first request does.
func BenchmarkBearer(b *testing.B) {
	tenant := devtenanttest.Start(b, devtenant.Options{})
	keys, err := NewKeySource(KeySourceConfig{Issuer: tenant.Issuer()})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: benchClientID, Audience: benchAudience})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		cacheSize int
	}{{"cached", 0}, {"uncached", -1}} {
		bearer, err := NewBearer(BearerConfig{
			Issuer: tenant.Issuer(), Audience: benchAudience, Keys: keys, CacheSize: c.cacheSize,
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
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
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
