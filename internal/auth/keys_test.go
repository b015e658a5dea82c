package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	josev2 "gopkg.in/go-jose/go-jose.v2"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	minRefresh = 30 * time.Second
	// keyFetchBackoff is how long the KeySource leaves the JWKS endpoint alone after
	// a failed fetch.
	keyFetchBackoff = 5 * time.Second
)

func newKeySource(t *testing.T, srv *jwksServer, clock *testkit.Clock) *auth.KeySource {
	t.Helper()
	ks, err := auth.NewKeySource(auth.KeySourceConfig{
		Issuer:             srv.issuer(),
		Client:             srv.Client(),
		MinRefreshInterval: minRefresh,
		Now:                clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// newExpiringKeySource is a KeySource whose provider's copy of the keys expires a
// nanosecond after each fetch, by the time package's clock (go-jwt-middleware reads
// no other). It reaches srv in-process: call it inside a synctest bubble, where that
// clock moves only when the test sleeps and synctest.Wait sees the provider's
// background refresh through to its end.
func newExpiringKeySource(t *testing.T, srv *jwksServer, clock *testkit.Clock) *auth.KeySource {
	t.Helper()
	ks, err := auth.NewKeySource(auth.KeySourceConfig{
		Issuer:             srv.issuer(),
		Client:             srv.inProcessClient(),
		CacheTTL:           time.Nanosecond,
		MinRefreshInterval: minRefresh,
		Now:                clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func kidsOf(set *josev2.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// keysFor calls Keys and checks which kids it served and how many JWKS requests the
// fake tenant has seen in total.
func keysFor(t *testing.T, ks *auth.KeySource, srv *jwksServer, kid string, wantKids []string, wantRequests int64) {
	t.Helper()
	set, err := ks.Keys(context.Background(), kid)
	if err != nil {
		t.Fatalf("Keys(%q): %v", kid, err)
	}
	if diff := cmp.Diff(wantKids, kidsOf(set)); diff != "" {
		t.Errorf("Keys(%q) kids (-want +got):\n%s", kid, diff)
	}
	if got := srv.requests.Load(); got != wantRequests {
		t.Errorf("after Keys(%q): %d JWKS requests, want %d", kid, got, wantRequests)
	}
}

func TestKeySourceFetchesLazilyAndCaches(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	ks := newKeySource(t, srv, testkit.NewClock())
	if got := srv.requests.Load(); got != 0 {
		t.Fatalf("NewKeySource fetched the JWKS %d times, want 0", got)
	}
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)
	keysFor(t, ks, srv, "", []string{"k1"}, 1) // no kid: nothing to refresh for
}

func TestKeySourceUnknownKidRefreshesOncePerInterval(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	clock := testkit.NewClock()
	ks := newKeySource(t, srv, clock)
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)

	// The tenant rotates: a token with the new kid causes one refresh that finds it.
	srv.setKeys(publicJWK(tenantKey(), "k1"), publicJWK(foreignKey(), "k2"))
	keysFor(t, ks, srv, "k2", []string{"k1", "k2"}, 2)
	keysFor(t, ks, srv, "k2", []string{"k1", "k2"}, 2)

	// A forged kid right after: no refresh within the interval, however often.
	for range 3 {
		keysFor(t, ks, srv, "forged", []string{"k1", "k2"}, 2)
	}
	clock.Advance(minRefresh - time.Nanosecond)
	keysFor(t, ks, srv, "forged", []string{"k1", "k2"}, 2)

	// Once the interval has passed, one more refresh is allowed, and then none again.
	clock.Advance(time.Nanosecond)
	srv.setKeys(publicJWK(tenantKey(), "k3"))
	keysFor(t, ks, srv, "forged", []string{"k3"}, 3)
	keysFor(t, ks, srv, "forged-2", []string{"k3"}, 3)
}

func TestKeySourceKeepsOldSetWhenRefreshFails(t *testing.T) {
	tests := []struct {
		name      string
		breakJWKS func(*jwksServer)
		// wantRequests counts the JWKS requests the server sees; a closed server sees none.
		wantRequests [2]int64
	}{
		{"503 with a page", func(s *jwksServer) { s.setFailure("html") }, [2]int64{2, 3}},
		{"503 with a JSON error", func(s *jwksServer) { s.setFailure("json") }, [2]int64{2, 3}},
		{"server gone", func(s *jwksServer) { s.Close() }, [2]int64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
			clock := testkit.NewClock()
			ks := newKeySource(t, srv, clock)
			keysFor(t, ks, srv, "k1", []string{"k1"}, 1)

			tt.breakJWKS(srv)
			// The refresh fails: the cached set is served (a token of the unknown kid
			// then fails closed), and tokens of known kids keep working.
			keysFor(t, ks, srv, "k2", []string{"k1"}, tt.wantRequests[0])
			keysFor(t, ks, srv, "k1", []string{"k1"}, tt.wantRequests[0])
			clock.Advance(minRefresh)
			keysFor(t, ks, srv, "k2", []string{"k1"}, tt.wantRequests[1])
			keysFor(t, ks, srv, "k1", []string{"k1"}, tt.wantRequests[1])
		})
	}
}

func TestKeySourceFirstFetchFailureIsAnError(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	srv.setFailure("html")
	clock := testkit.NewClock()
	ks := newKeySource(t, srv, clock)
	if _, err := ks.Keys(context.Background(), "k1"); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("Keys with the JWKS endpoint down: err = %v, want ErrKeysUnavailable", err)
	}
	srv.setFailure("")
	clock.Advance(keyFetchBackoff)
	keysFor(t, ks, srv, "k1", []string{"k1"}, 2) // nothing bad was cached
}

// While the JWKS endpoint fails and no key set was ever fetched, the endpoint is
// asked once per back-off period, not once per token.
func TestKeySourceBacksOffAfterAFailedFetch(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	srv.setFailure("json")
	clock := testkit.NewClock()
	ks := newKeySource(t, srv, clock)
	for i := range 20 {
		if _, err := ks.Keys(context.Background(), "k1"); !errors.Is(err, auth.ErrKeysUnavailable) {
			t.Fatalf("Keys #%d: err = %v, want ErrKeysUnavailable", i+1, err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("%d JWKS requests for 20 calls within the back-off, want 1", got)
	}
	clock.Advance(keyFetchBackoff - time.Nanosecond)
	if _, err := ks.Keys(context.Background(), "k1"); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("Keys just before the back-off ends: err = %v, want ErrKeysUnavailable", err)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("%d JWKS requests before the back-off ended, want 1", got)
	}

	// After the back-off the endpoint is asked again; this time it answers.
	clock.Advance(time.Nanosecond)
	srv.setFailure("")
	keysFor(t, ks, srv, "k1", []string{"k1"}, 2)
	keysFor(t, ks, srv, "k1", []string{"k1"}, 2)
}

// go-jwt-middleware's provider drops its cache when a background refresh fails, and
// then fetches synchronously on every call: the KeySource serves the last good set
// instead of failing, and backs off.
func TestKeySourceServesLastGoodSetWhenTheProviderLosesIt(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1")) // outside the bubble: it listens
	synctest.Test(t, func(t *testing.T) {
		clock := testkit.NewClock()
		ks := newExpiringKeySource(t, srv, clock)
		keysFor(t, ks, srv, "k1", []string{"k1"}, 1)

		srv.setFailure("html")
		time.Sleep(time.Millisecond) // the provider's copy expires (bubble time: instant)
		// The provider serves its expired copy and refreshes in the background
		// (request 2); that refresh fails and drops the copy.
		set, err := ks.Keys(context.Background(), "k1")
		if err != nil {
			t.Fatalf("Keys with an expired copy: %v", err)
		}
		if diff := cmp.Diff([]string{"k1"}, kidsOf(set)); diff != "" {
			t.Errorf("Keys with an expired copy: kids (-want +got):\n%s", diff)
		}
		synctest.Wait()
		if got := srv.requests.Load(); got != 2 {
			t.Fatalf("%d JWKS requests after the background refresh, want 2", got)
		}
		// With no copy left the provider fetches synchronously (request 3), fails,
		// and the KeySource serves the last good set instead.
		keysFor(t, ks, srv, "k1", []string{"k1"}, 3)
		// Within the back-off nothing is fetched, and the last good set is served.
		for range 5 {
			keysFor(t, ks, srv, "k1", []string{"k1"}, 3)
		}
		clock.Advance(keyFetchBackoff)
		srv.setFailure("")
		keysFor(t, ks, srv, "k1", []string{"k1"}, 4)
	})
}

func TestKeySourceConcurrentUnknownKidsRefreshOnce(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	ks := newKeySource(t, srv, testkit.NewClock())
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)

	const n = 16
	errs := testkit.Parallel(t, n, func(i int) error {
		_, err := ks.Keys(context.Background(), fmt.Sprintf("forged-%d", i))
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("Keys: %v", err)
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("%d JWKS requests for %d concurrent unknown kids, want 2 (first fetch + one refresh)", got, n)
	}
}

// Concurrent callers while the JWKS endpoint fails share one fetch: those that waited
// for it find the back-off instead of repeating it.
func TestKeySourceConcurrentCallsDuringAnOutageFetchOnce(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	srv.setFailure("html")
	ks := newKeySource(t, srv, testkit.NewClock())
	const n = 16
	errs := testkit.Parallel(t, n, func(int) error {
		_, err := ks.Keys(context.Background(), "k1")
		return err
	})
	for _, err := range errs {
		if !errors.Is(err, auth.ErrKeysUnavailable) {
			t.Errorf("Keys: err = %v, want ErrKeysUnavailable", err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d JWKS requests for %d concurrent calls, want 1", got, n)
	}
}
