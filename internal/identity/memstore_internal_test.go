package identity

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryStoreBoundsIntentsPerUser(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(nil)
	for i := range MaxIntentsPerUser + 1 {
		if err := s.PutIntent(ctx, fmt.Sprint("n", i), "auth0|alice", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.ConsumeIntent(ctx, "n0", "auth0|alice"); ok {
		t.Error("the oldest intent survived past the per-user bound")
	}
	for i := 1; i <= MaxIntentsPerUser; i++ {
		if ok, _ := s.ConsumeIntent(ctx, fmt.Sprint("n", i), "auth0|alice"); !ok {
			t.Errorf("intent n%d lost", i)
		}
	}
	if len(s.intents) != 0 || len(s.bySubject) != 0 {
		t.Errorf("store not empty after consuming everything: %d intents, %d subjects", len(s.intents), len(s.bySubject))
	}
}

func TestMemoryStoreSweepsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	s := NewMemoryStore(func() time.Time { return now })
	for i := range 2 * minSweep {
		user := fmt.Sprint("auth0|u", i)
		if err := s.PutIntent(ctx, fmt.Sprint("n", i), user, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.SetView(ctx, user, View{UserID: user}, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Second) // everything above has expired
	for i := range minSweep {
		user := fmt.Sprint("auth0|w", i)
		_ = s.PutIntent(ctx, fmt.Sprint("m", i), user, time.Minute)
		_ = s.SetView(ctx, user, View{UserID: user}, time.Minute)
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
