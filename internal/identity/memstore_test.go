package identity_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/testkit"
)

func consume(t *testing.T, s *identity.MemoryStore, nonce, subject string) bool {
	t.Helper()
	ok, err := s.ConsumeIntent(context.Background(), nonce, subject)
	if err != nil {
		t.Fatalf("ConsumeIntent(%q, %q): %v", nonce, subject, err)
	}
	return ok
}

func TestMemoryStoreIntentIsConsumedOnce(t *testing.T) {
	s := identity.NewMemoryStore(testkit.NewClock().Now)
	ctx := context.Background()
	if err := s.PutIntent(ctx, "n1", "auth0|alice", time.Minute); err != nil {
		t.Fatal(err)
	}
	if consume(t, s, "unknown", "auth0|alice") {
		t.Error("an unknown nonce was accepted")
	}
	if consume(t, s, "n1", "auth0|bob") {
		t.Error("bob consumed alice's nonce")
	}
	// Bob's attempt must not have burnt alice's nonce.
	if !consume(t, s, "n1", "auth0|alice") {
		t.Fatal("alice's nonce was refused")
	}
	if consume(t, s, "n1", "auth0|alice") {
		t.Error("the nonce was accepted twice")
	}
}

func TestMemoryStoreIntentExpires(t *testing.T) {
	clock := testkit.NewClock()
	s := identity.NewMemoryStore(clock.Now)
	ctx := context.Background()
	for _, n := range []string{"at-ttl", "past-ttl"} {
		if err := s.PutIntent(ctx, n, "auth0|alice", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)
	if !consume(t, s, "at-ttl", "auth0|alice") {
		t.Error("nonce refused exactly at its ttl")
	}
	clock.Advance(time.Nanosecond)
	if consume(t, s, "past-ttl", "auth0|alice") {
		t.Error("nonce accepted after its ttl")
	}
	// A later PutIntent sweeps expired intents; an expired one stays refused.
	if err := s.PutIntent(ctx, "fresh", "auth0|alice", time.Minute); err != nil {
		t.Fatal(err)
	}
	if consume(t, s, "past-ttl", "auth0|alice") {
		t.Error("expired nonce accepted after a sweep")
	}
	if !consume(t, s, "fresh", "auth0|alice") {
		t.Error("fresh nonce refused")
	}
}

func TestMemoryStoreViewTTL(t *testing.T) {
	clock := testkit.NewClock()
	s := identity.NewMemoryStore(clock.Now)
	ctx := context.Background()
	v := identity.View{UserID: "auth0|alice", Identities: []identity.Identity{{Provider: "auth0", UserID: "alice", Primary: true}}}
	get := func() (identity.View, bool) {
		t.Helper()
		got, ok, err := s.GetView(ctx, "auth0|alice")
		if err != nil {
			t.Fatal(err)
		}
		return got, ok
	}
	if _, ok := get(); ok {
		t.Fatal("empty store had a view")
	}
	if err := s.SetView(ctx, "auth0|alice", v, time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	got, ok := get()
	if !ok {
		t.Fatal("view missing at its ttl")
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	clock.Advance(time.Nanosecond)
	if _, ok := get(); ok {
		t.Error("view served after its ttl")
	}

	if err := s.SetView(ctx, "auth0|alice", v, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteView(ctx, "auth0|alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := get(); ok {
		t.Error("view served after DeleteView")
	}
}

type lockResult struct {
	unlock func()
	err    error
}

func lockAsync(ctx context.Context, s *identity.MemoryStore, key string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		unlock, err := s.Lock(ctx, key)
		ch <- lockResult{unlock, err}
	}()
	return ch
}

func TestMemoryStoreLockSerializes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := identity.NewMemoryStore(nil)
		ctx := context.Background()
		unlockA, err := s.Lock(ctx, "auth0|alice")
		if err != nil {
			t.Fatal(err)
		}
		// Another key is independent.
		unlockOther, err := s.Lock(ctx, "auth0|bob")
		if err != nil {
			t.Fatalf("Lock of another key while alice is held: %v", err)
		}
		unlockOther()

		second := lockAsync(ctx, s, "auth0|alice")
		third := lockAsync(ctx, s, "auth0|alice")
		synctest.Wait() // every goroutine is blocked: the waiters are parked in Lock
		select {
		case <-second:
			t.Fatal("second Lock returned while the first was held")
		case <-third:
			t.Fatal("third Lock returned while the first was held")
		default:
		}

		unlockA()
		synctest.Wait()
		// Exactly one waiter gets the lock; the other keeps waiting for it.
		var (
			r       lockResult
			waiting <-chan lockResult
		)
		select {
		case r = <-second:
			waiting = third
		case r = <-third:
			waiting = second
		default:
			t.Fatal("no waiter got the lock after unlock")
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		synctest.Wait()
		select {
		case <-waiting:
			t.Fatal("both waiters hold the lock")
		default:
		}
		r.unlock()
		last := <-waiting
		if last.err != nil {
			t.Fatal(last.err)
		}
		last.unlock()
	})
}

func TestMemoryStoreLockHonorsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := identity.NewMemoryStore(nil)
		unlock, err := s.Lock(context.Background(), "auth0|alice")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		waiter := lockAsync(ctx, s, "auth0|alice")
		synctest.Wait()
		cancel()
		r := <-waiter
		if !errors.Is(r.err, context.Canceled) || r.unlock != nil {
			t.Fatalf("Lock after cancel = (unlock %v, %v), want (nil, context.Canceled)", r.unlock != nil, r.err)
		}

		// A deadline works the same way, and the abandoned wait left the lock usable.
		dctx, dcancel := context.WithTimeout(context.Background(), time.Second)
		defer dcancel()
		if _, err := s.Lock(dctx, "auth0|alice"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock past deadline: %v, want context.DeadlineExceeded", err)
		}
		unlock()
		unlock2, err := s.Lock(context.Background(), "auth0|alice")
		if err != nil {
			t.Fatalf("Lock after unlock: %v", err)
		}
		unlock2()
	})
}
