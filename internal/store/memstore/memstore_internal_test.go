package memstore

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/testkit"
)

// What the contract cannot see: memory is given back. Consuming every intent leaves
// no per-subject bookkeeping behind, and expired entries that nobody touches again
// are swept once a map has doubled.

func TestConsumedIntentsLeaveNothingBehind(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	for i := range identity.MaxIntentsPerUser + 1 {
		if err := s.PutIntent(ctx, fmt.Sprint("n", i), "auth0|alice", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range identity.MaxIntentsPerUser + 1 {
		_, _ = s.ConsumeIntent(ctx, fmt.Sprint("n", i), "auth0|alice")
	}
	if len(s.intents) != 0 || len(s.bySubject) != 0 {
		t.Errorf("store not empty after consuming everything: %d intents, %d subjects", len(s.intents), len(s.bySubject))
	}
}

func TestUnlockLeavesNothingBehind(t *testing.T) {
	s := New(Options{})
	unlock, err := s.Lock(context.Background(), "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	unlock()
	if len(s.locks) != 0 {
		t.Errorf("%d locks kept after unlock", len(s.locks))
	}
}

func TestSweepsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s := New(Options{Now: clock.Now})
	for i := range 2 * minSweep {
		user := fmt.Sprint("auth0|u", i)
		if err := s.PutIntent(ctx, fmt.Sprint("n", i), user, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.SetView(ctx, user, identity.View{UserID: user}, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second) // everything above has expired
	for i := range minSweep {
		user := fmt.Sprint("auth0|w", i)
		_ = s.PutIntent(ctx, fmt.Sprint("m", i), user, time.Minute)
		_ = s.SetView(ctx, user, identity.View{UserID: user}, time.Minute)
	}
	if n := len(s.intents); n > minSweep+1 {
		t.Errorf("%d intents kept, want at most the %d live ones (+1)", n, minSweep)
	}
	if n := len(s.bySubject); n > minSweep+1 {
		t.Errorf("%d subjects kept", n)
	}
	if n := len(s.views); n > minSweep+1 {
		t.Errorf("%d views kept, want at most the %d live ones (+1)", n, minSweep)
	}
}

func sealedView(userID string) identity.View {
	return identity.Seal(identity.View{UserID: userID, Identities: []identity.Identity{
		{Provider: "auth0", UserID: userID[len("auth0|"):], Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: userID[len("auth0|"):] + "@example.com", EmailVerified: true, Name: "A. User", Picture: "https://img.example/" + userID[len("auth0|"):] + ".png"}},
		{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true,
			Profile: identity.Profile{Email: "someone@users.noreply.example", Name: "someone"}},
	}})
}

// checkViewBytes checks that the counter is the sum of what the views were charged.
func checkViewBytes(t *testing.T, s *Store) {
	t.Helper()
	sum := 0
	for k, v := range s.views {
		sum += v.cost
		if v.cost != viewCost(k, v.view) {
			t.Errorf("view of %s charged %d, want %d", k, v.cost, viewCost(k, v.view))
		}
	}
	if sum != s.viewBytes {
		t.Errorf("views cost %d, counter says %d", sum, s.viewBytes)
	}
}

// The view cache never holds more than MaxViewBytes of charges: a SetView drops other
// views first, and a view too large for the bound is not kept.
func TestViewCacheByteBound(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	one := viewCost("auth0|u00", sealedView("auth0|u00"))
	max := 10*one + one/2 // room for 10
	s := New(Options{Now: clock.Now, MaxViewBytes: max})
	for i := range 30 {
		user := fmt.Sprintf("auth0|u%02d", i)
		if err := s.SetView(ctx, user, sealedView(user), time.Minute); err != nil {
			t.Fatal(err)
		}
		if s.viewBytes > max {
			t.Fatalf("after %d views: %d bytes charged, bound %d", i+1, s.viewBytes, max)
		}
	}
	if len(s.views) != 10 {
		t.Errorf("%d views kept, want 10 (the bound's worth)", len(s.views))
	}
	if _, ok, _ := s.GetView(ctx, "auth0|u29"); !ok {
		t.Error("the last view set was dropped by its own SetView")
	}
	checkViewBytes(t, s)

	// Setting a view again replaces its charge; deleting and expiring release it.
	before := s.viewBytes
	_ = s.SetView(ctx, "auth0|u29", sealedView("auth0|u29"), time.Minute)
	if s.viewBytes != before {
		t.Errorf("SetView of a cached user changed the charge from %d to %d", before, s.viewBytes)
	}
	_ = s.DeleteView(ctx, "auth0|u29")
	checkViewBytes(t, s)
	if s.viewBytes != before-one {
		t.Errorf("after DeleteView: %d bytes, want %d", s.viewBytes, before-one)
	}

	big := sealedView("auth0|big")
	big.Identities[0].Profile.Name = strings.Repeat("x", max/8)
	_ = s.SetView(ctx, "auth0|big", big, time.Minute)
	if _, ok, _ := s.GetView(ctx, "auth0|big"); ok {
		t.Error("a view over an eighth of the bound was kept")
	}
	checkViewBytes(t, s)
}

// BenchmarkViewCacheMemory measures what one cached view really holds on the heap
// against what the store charges for it (viewCost), so that MaxViewBytes is honest:
// heap-B/view must stay at or below charged-B/view.
func BenchmarkViewCacheMemory(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	s := New(Options{MaxViewBytes: 1 << 30})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		user := fmt.Sprintf("auth0|user%06d", i)
		_ = s.SetView(ctx, user, sealedView(user), time.Hour)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for b.Loop() { // one measurement: the figures are per view, not per op
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/view")
	b.ReportMetric(float64(s.viewBytes)/n, "charged-B/view")
	runtime.KeepAlive(s)
}
