package auth_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/testkit"
)

// OnCacheLookup hears of each bearer token looked up in the validated-token cache
// once, whichever of the two lookups (the middleware's shortcut, or validate behind
// go-jwt-middleware) answers; a token refused by the text check is not looked up.
func TestBearerCacheLookupsAreCountedOnce(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	var lookups []bool
	rec := newBearerRecorderOf(t, auth.BearerConfig{
		Issuer: srv.issuer(), Audience: apiAudience, Keys: newKeySource(t, srv, testkit.NewClock()),
		OnCacheLookup: func(hit bool) { lookups = append(lookups, hit) },
	})
	tok := validAccessToken(t, srv)
	for _, authorization := range []string{
		"Bearer " + tok,  // a miss, then verified and cached
		"Bearer " + tok,  // a hit, on the shortcut
		"Bearer  " + tok, // two spaces: not the shortcut's form; a hit in validate
		"Bearer not-a-token",
	} {
		rec.serve(authorization)
	}
	if diff := cmp.Diff([]bool{false, true, true}, lookups); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}
}

// OnFetch hears of each request for the JWKS: nil for a key set, an error for a
// failed answer or none.
func TestKeySourceOnFetch(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	clock := testkit.NewClock()
	var fetches []string
	ks, err := auth.NewKeySource(auth.KeySourceConfig{
		Issuer: srv.issuer(), Client: srv.Client(), MinRefreshInterval: minRefresh, Now: clock.Now,
		OnFetch: func(err error) {
			if err != nil {
				fetches = append(fetches, "error")
				return
			}
			fetches = append(fetches, "ok")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1) // the first fetch
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1) // cached: no fetch
	srv.setFailure("json")
	keysFor(t, ks, srv, "k2", []string{"k1"}, 2) // an unknown kid: a refresh, refused
	clock.Advance(minRefresh)
	srv.setFailure("")
	keysFor(t, ks, srv, "k2", []string{"k1"}, 3) // refreshed again, fine (k2 still unknown)
	srv.Close()
	clock.Advance(minRefresh)
	keysFor(t, ks, srv, "k3", []string{"k1"}, 3) // no answer at all
	if diff := cmp.Diff([]string{"ok", "error", "ok", "error"}, fetches); diff != "" {
		t.Errorf("fetches (-want +got):\n%s", diff)
	}
}
