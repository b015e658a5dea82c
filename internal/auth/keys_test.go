package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	josev2 "gopkg.in/go-jose/go-jose.v2"

	"github.com/linkbff/linkbff/internal/auth"
)

const minRefresh = 30 * time.Second

func newKeySource(t *testing.T, srv *jwksServer, clock *fakeClock) *auth.KeySource {
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
	ks := newKeySource(t, srv, newFakeClock())
	if got := srv.requests.Load(); got != 0 {
		t.Fatalf("NewKeySource fetched the JWKS %d times, want 0", got)
	}
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)
	keysFor(t, ks, srv, "", []string{"k1"}, 1) // no kid: nothing to refresh for
}

func TestKeySourceUnknownKidRefreshesOncePerInterval(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	clock := newFakeClock()
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
			clock := newFakeClock()
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
	ks := newKeySource(t, srv, newFakeClock())
	if _, err := ks.Keys(context.Background(), "k1"); err == nil {
		t.Fatal("Keys with the JWKS endpoint down: err = nil, want an error")
	}
	srv.setFailure("")
	keysFor(t, ks, srv, "k1", []string{"k1"}, 2) // nothing bad was cached
}

func TestKeySourceConcurrentUnknownKidsRefreshOnce(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	ks := newKeySource(t, srv, newFakeClock())
	keysFor(t, ks, srv, "k1", []string{"k1"}, 1)

	const n = 16
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := ks.Keys(context.Background(), fmt.Sprintf("forged-%d", i))
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Keys: %v", err)
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("%d JWKS requests for %d concurrent unknown kids, want 2 (first fetch + one refresh)", got, n)
	}
}
