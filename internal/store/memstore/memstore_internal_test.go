package memstore

import (
	"context"
	"fmt"
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
	s := New(nil)
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
	s := New(nil)
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
	s := New(clock.Now)
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
