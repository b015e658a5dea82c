package identity_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

// OnCacheLookup hears of each read of the identity cache by List (an unlink's
// included), and OnOutcome of each link and unlink with the code a client gets.
func TestCacheLookupsAndOutcomesAreReported(t *testing.T) {
	var lookups, outcomes []string
	f := newFixture(t, func(c *identity.Config) {
		c.OnCacheLookup = func(result string) { lookups = append(lookups, result) }
		c.OnOutcome = func(op string, code fault.Code) { outcomes = append(outcomes, op+" "+string(code)) }
	})
	ctx := quietCtx()
	for range 2 {
		if _, err := f.svc.List(ctx, alice); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Link(ctx, alice, "tok-google"); err != nil {
		t.Fatal(err)
	}
	_, _ = f.svc.Link(ctx, alice, "tok-forged")              // not a token of the tenant
	_, _ = f.svc.Unlink(ctx, alice, "auth0", "alice")        // the primary
	_, _ = f.svc.Unlink(ctx, alice, "google-oauth2", "1077") // fine
	_, _ = f.svc.Unlink(ctx, "not a user id", "github", "1") // refused before the cache
	if diff := cmp.Diff([]string{"miss", "hit", "hit", "hit"}, lookups); diff != "" {
		t.Errorf("cache lookups (-want +got):\n%s", diff)
	}
	want := []string{"link ", "link invalid_link_token", "unlink primary_identity", "unlink ", "unlink invalid_token"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}

	// With the cache off, nothing is looked up.
	lookups = nil
	f = newFixture(t, func(c *identity.Config) {
		c.CacheTTL = 0
		c.OnCacheLookup = func(result string) { lookups = append(lookups, result) }
	})
	if _, err := f.svc.List(ctx, alice); err != nil || len(lookups) != 0 {
		t.Errorf("List without a cache: %v, lookups %v", err, lookups)
	}
}
