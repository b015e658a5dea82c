package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

// maxWarmListAllocs bounds the heap allocations of a warm GET /me/identities with a
// token seen before, through the whole handler in-process, the recorder's own
// (9) included, with the abuse limits on (as deployed). A count, not a timing: the
// same on any machine for one Go release. 16 when this was written (down from 61);
// 31 with the token rules and abuse limits (the client address, the two rate limits,
// what the token rules add to a cached principal); 21 since the client address and
// the principal travel in the request's own context, the access line is written by
// hand and an IPv4 address's counter key is made in one allocation. 7 of the 21 are
// the two rate limits' (3 of them header values go-chi/httprate formats even with its
// headers off). A cache hit runs no text check of the
// token: the cache is keyed by the exact token, and only a token that passed it is
// stored.
const maxWarmListAllocs = 21

func TestWarmListAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pools at random, which changes allocation counts")
	}
	tenant := devtenanttest.Start(t, devtenant.Options{})
	h := benchHandler(t, productionEnv(tenant, map[string]string{"IDENTITY_CACHE_TTL": "1h"}))
	req := listRequest(accessTokens(t, tenant, benchUser, 1)[0])
	serve := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /me/identities: %d %s", w.Code, w.Body)
		}
	}
	serve() // warms the keys, the token cache and the identity cache
	n := testing.AllocsPerRun(200, serve)
	t.Logf("%.1f allocations per warm list (at most %d)", n, maxWarmListAllocs)
	if n > maxWarmListAllocs {
		t.Errorf("%.1f allocations per warm list, want at most %d", n, maxWarmListAllocs)
	}
}
