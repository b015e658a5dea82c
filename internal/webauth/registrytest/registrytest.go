// Package registrytest is the conformance suite of webauth.Registry: every rule
// written on it, as tests that the memory registry and the Redis one run unchanged
// (see Run). Only tests import it.
//
// Time is controlled, not waited for: each registry gets a testkit.Clock, which the
// suite moves to expire records, so a registry must judge expiry by the clock it was
// given; its backend may forget records by itself (a Redis TTL) only later.
package registrytest

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/testkit"
	"github.com/linkbff/linkbff/internal/webauth"
)

// NewRegistry returns a fresh registry that judges expiry by clock.Now and shares
// nothing with any registry it returned before.
type NewRegistry func(t *testing.T, clock *testkit.Clock) webauth.Registry

// Replica returns a second registry on the shared state of r (another replica),
// or nil for a registry that has no replicas: the suite then uses r twice.
type Replica func(t *testing.T, r webauth.Registry) webauth.Registry

// ttl is every record's lifetime in the suite: only the test clock expires one.
const ttl = 10 * time.Minute

// Run runs the contract, each rule as a subtest with its own registry and clock.
func Run(t *testing.T, newRegistry NewRegistry, replica Replica) {
	pair := func(t *testing.T) (a, b webauth.Registry, clock *testkit.Clock) {
		clock = testkit.NewClock()
		a = newRegistry(t, clock)
		b = a
		if replica != nil {
			b = replica(t, a)
		}
		return a, b, clock
	}
	t.Run("TakeSessionsReturnsAnOwnersSessionsOnce", func(t *testing.T) {
		a, b, _ := pair(t)
		add(t, a, "sub:auth0|alice", "s1")
		add(t, a, "sub:auth0|alice", "s2")
		add(t, a, "sub:auth0|alice", "s2") // twice: still one session
		add(t, a, "sub:auth0|bob", "s3")
		if diff := cmp.Diff([]string{"s1", "s2"}, take(t, b, "sub:auth0|alice")); diff != "" {
			t.Errorf("alice's sessions (-want +got):\n%s", diff)
		}
		if got := take(t, a, "sub:auth0|alice"); len(got) != 0 {
			t.Errorf("alice's sessions taken twice: %v", got)
		}
		if diff := cmp.Diff([]string{"s3"}, take(t, b, "sub:auth0|bob")); diff != "" {
			t.Errorf("bob's sessions (-want +got):\n%s", diff)
		}
		if got := take(t, b, "sid:nobody"); len(got) != 0 {
			t.Errorf("an owner without sessions has %v", got)
		}
	})
	t.Run("ExpiredSessionsAreDroppedByTheNextAdd", func(t *testing.T) {
		a, b, clock := pair(t)
		add(t, a, "sub:auth0|alice", "old")
		clock.Advance(ttl + time.Millisecond)
		add(t, a, "sub:auth0|alice", "new")
		if diff := cmp.Diff([]string{"new"}, take(t, b, "sub:auth0|alice")); diff != "" {
			t.Errorf("sessions (-want +got):\n%s", diff)
		}
	})
	t.Run("ConcurrentTakesShareNothing", func(t *testing.T) {
		a, b, _ := pair(t)
		want := []string{"s1", "s2", "s3", "s4", "s5"}
		for _, s := range want {
			add(t, a, "sid:login-1", s)
		}
		const n = 8
		got := make([][]string, n)
		errs := testkit.Parallel(t, n, func(i int) error {
			r := a
			if i%2 == 1 {
				r = b
			}
			var err error
			got[i], err = r.TakeSessions(testkit.Context(t), "sid:login-1")
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, g := range got {
			all = append(all, g...)
		}
		slices.Sort(all)
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("sessions taken by %d concurrent takes, together (-want +got):\n%s", n, diff)
		}
	})
	t.Run("ClaimOnceOncePerIDUntilItExpires", func(t *testing.T) {
		a, b, clock := pair(t)
		if !claim(t, a, "jti-1") {
			t.Fatal("a fresh id was refused")
		}
		if claim(t, b, "jti-1") || claim(t, a, "jti-1") {
			t.Error("an id was claimed twice")
		}
		if !claim(t, b, "jti-2") {
			t.Error("another id was refused")
		}
		clock.Advance(ttl)
		if claim(t, a, "jti-1") {
			t.Error("an id was claimed again exactly at its ttl")
		}
		clock.Advance(time.Millisecond)
		if !claim(t, b, "jti-1") {
			t.Error("an id was refused after its ttl")
		}
	})
	t.Run("UnclaimLetsAnIDBeClaimedAgain", func(t *testing.T) {
		a, b, _ := pair(t)
		claim(t, a, "jti-1")
		if err := b.Unclaim(testkit.Context(t), "jti-1"); err != nil {
			t.Fatal(err)
		}
		if !claim(t, a, "jti-1") {
			t.Error("an unclaimed id was refused")
		}
		if err := a.Unclaim(testkit.Context(t), "never-claimed"); err != nil {
			t.Errorf("Unclaim of an unknown id: %v", err)
		}
	})
	t.Run("ConcurrentClaimsSucceedOnce", func(t *testing.T) {
		a, b, _ := pair(t)
		var won atomic.Int32
		errs := testkit.Parallel(t, 16, func(i int) error {
			r := a
			if i%2 == 1 {
				r = b
			}
			ok, err := r.ClaimOnce(testkit.Context(t), "jti-race", ttl)
			if ok {
				won.Add(1)
			}
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := won.Load(); n != 1 {
			t.Errorf("%d of 16 concurrent claims of one id succeeded, want 1", n)
		}
	})
}

func add(t *testing.T, r webauth.Registry, owner, session string) {
	t.Helper()
	if err := r.AddSession(testkit.Context(t), owner, session, ttl); err != nil {
		t.Fatalf("AddSession(%s, %s): %v", owner, session, err)
	}
}

func take(t *testing.T, r webauth.Registry, owner string) []string {
	t.Helper()
	got, err := r.TakeSessions(testkit.Context(t), owner)
	if err != nil {
		t.Fatalf("TakeSessions(%s): %v", owner, err)
	}
	slices.Sort(got)
	return got
}

func claim(t *testing.T, r webauth.Registry, id string) bool {
	t.Helper()
	ok, err := r.ClaimOnce(testkit.Context(t), id, ttl)
	if err != nil {
		t.Fatalf("ClaimOnce(%s): %v", id, err)
	}
	return ok
}
