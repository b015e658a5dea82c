// Package storetest is the conformance suite of identity's store contract: every
// rule written on identity.IntentStore, identity.Cache and identity.Locker, and on
// identity.SharedCache for a store that implements it, as tests that any
// identity.Store runs unchanged (see Run). Only tests import it.
//
// Time is controlled, not waited for: the suite gives each store a testkit.Clock and
// moves it to expire intents and views, so a store must judge their expiry by the
// clock it was given (identity's contract). TTLs are minutes long, so a store that
// also sets a real expiry in its backend as garbage collection (a Redis TTL) never
// sees it fire during the suite. Only lock lifetimes (Options.LockTTL) pass in real
// time, because what ends them is the backend's clock.
//
// No test can hang: every wait is bounded (testkit.Timeout) and every context has a
// deadline. Waits that must not end (a second Lock while the first is held) are
// checked for a short real-time window, which can only make a broken store pass by
// luck, never make a correct one fail.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/testkit"
)

// NewStore returns a fresh store that judges expiry by clock.Now and shares no
// state with any store it returned before (a Redis store: a new key prefix). It is
// called once per test, with that test's t, on which it registers its own cleanup.
type NewStore func(t *testing.T, clock *testkit.Clock) identity.Store

// Options says what a store adds to the common contract.
type Options struct {
	// LockTTL is the lifetime of a lock hold, for stores whose holders can die
	// without unlocking (Redis); it must be the one the stores from NewStore were
	// built with. The suite then checks that an abandoned lock frees itself, and that
	// the unlock of a hold that expired releases nothing of its successor's. Those
	// tests wait for it in real time: keep it short (100ms to 1s) but well above a
	// round trip to the backend. Zero (the memory store) skips them.
	LockTTL time.Duration
	// Replica, when set, returns a second store on the shared state of s, as another
	// replica would see it (a Redis store: a new client on the same backend, key
	// prefix and clock). The cross-store tests then put through one and consume,
	// read or lock through the other. Nil means a store has no replicas: those tests
	// use s twice.
	Replica func(t *testing.T, s identity.Store) identity.Store
}

// blockedFor is how long a wait that must not end is watched.
const blockedFor = 50 * time.Millisecond

// ttl is every intent's and view's lifetime in the suite: long, so that only the
// test clock ever expires one.
const ttl = 10 * time.Minute

// Run runs the whole contract against stores from newStore, each test as a subtest
// of t with its own store and clock. The SharedCache tests run when the store
// implements identity.SharedCache, and skip otherwise.
func Run(t *testing.T, newStore NewStore, opts Options) {
	s := &suite{newStore: newStore, opts: opts}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"IntentConsumedOnceByItsSubjectOnly", s.intentConsumedOnce},
		{"IntentExpires", s.intentExpires},
		{"IntentsBoundedPerSubject", s.intentsBounded},
		{"ExpiredIntentsDoNotCountTowardTheBound", s.expiredIntentsDoNotCount},
		{"ConsumedIntentsDoNotCountTowardTheBound", s.consumedIntentsDoNotCount},
		{"ConcurrentConsumesOfOneIntentSucceedOnce", s.concurrentConsumes},
		{"ConcurrentPutsKeepTheBound", s.concurrentPuts},
		{"RevokeIntentsOfOneSubject", s.revokeIntents},
		{"ViewRoundTrip", s.viewRoundTrip},
		{"ViewTTL", s.viewTTL},
		{"ViewOverwriteAndDelete", s.viewOverwriteAndDelete},
		{"LockIsExclusivePerKey", s.lockExclusive},
		{"LockWaitEndsWithContext", s.lockWaitEndsWithContext},
		{"UnlockReleasesOnlyOwnHold", s.unlockOnlyOwnHold},
		{"LockSerializesContenders", s.lockSerializes},
		{"AbandonedLockExpires", s.abandonedLockExpires},
		{"UnlockAfterExpiryReleasesNothing", s.unlockAfterExpiry},
		{"SharedCacheWroteAdvancesGeneration", s.wroteAdvancesGeneration},
		{"SharedCacheStaleReadIsNotStored", s.staleReadNotStored},
		{"SharedCacheViewsExpire", s.sharedViewsExpire},
		{"SharedCacheRacingStaleReadsNeverWin", s.racingStaleReads},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type suite struct {
	newStore NewStore
	opts     Options
}

// stores returns a fresh store and its replica (the same store without one), on one
// clock.
func (s *suite) stores(t *testing.T) (a, b identity.Store, clock *testkit.Clock) {
	t.Helper()
	clock = testkit.NewClock()
	a = s.newStore(t, clock)
	b = a
	if s.opts.Replica != nil {
		b = s.opts.Replica(t, a)
	}
	return a, b, clock
}

func put(t *testing.T, s identity.Store, nonce, subject string) {
	t.Helper()
	if err := s.PutIntent(testkit.Context(t), nonce, subject, ttl); err != nil {
		t.Fatalf("PutIntent(%q, %q): %v", nonce, subject, err)
	}
}

func consume(t *testing.T, s identity.Store, nonce, subject string) bool {
	t.Helper()
	ok, err := s.ConsumeIntent(testkit.Context(t), nonce, subject)
	if err != nil {
		t.Fatalf("ConsumeIntent(%q, %q): %v", nonce, subject, err)
	}
	return ok
}

// nonces returns n distinct nonces whose lexical order is the reverse of their
// order in the slice, so that a store ordering a subject's intents by nonce rather
// than by age drops the wrong one.
func nonces(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, n-i)
	}
	return out
}

func (s *suite) intentConsumedOnce(t *testing.T) {
	a, b, _ := s.stores(t)
	put(t, a, "n1", "auth0|alice")
	if consume(t, b, "unknown", "auth0|alice") {
		t.Error("an unknown nonce was consumed")
	}
	if consume(t, b, "n1", "auth0|bob") {
		t.Error("bob consumed alice's nonce")
	}
	// Bob's attempt must not have burnt alice's nonce.
	if !consume(t, b, "n1", "auth0|alice") {
		t.Fatal("alice's nonce was refused")
	}
	if consume(t, a, "n1", "auth0|alice") || consume(t, b, "n1", "auth0|alice") {
		t.Error("the nonce was consumed twice")
	}
}

func (s *suite) intentExpires(t *testing.T) {
	a, b, clock := s.stores(t)
	put(t, a, "at-ttl", "auth0|alice")
	put(t, a, "past-ttl", "auth0|alice")
	clock.Advance(ttl)
	if !consume(t, b, "at-ttl", "auth0|alice") {
		t.Error("intent refused exactly at its ttl")
	}
	clock.Advance(time.Millisecond)
	if consume(t, b, "past-ttl", "auth0|alice") {
		t.Error("intent consumed after its ttl")
	}
	// Putting another intent (which may sweep) does not bring an expired one back.
	put(t, a, "fresh", "auth0|alice")
	if consume(t, b, "past-ttl", "auth0|alice") {
		t.Error("expired intent consumed after another put")
	}
	if !consume(t, b, "fresh", "auth0|alice") {
		t.Error("fresh intent refused")
	}
}

func (s *suite) intentsBounded(t *testing.T) {
	a, b, _ := s.stores(t)
	put(t, a, "bob-before", "auth0|bob")
	ns := nonces("alice", identity.MaxIntentsPerUser+1)
	for _, n := range ns {
		put(t, a, n, "auth0|alice")
	}
	put(t, a, "bob-after", "auth0|bob")
	if consume(t, b, ns[0], "auth0|alice") {
		t.Errorf("alice's oldest intent survived %d newer ones (the bound is %d)", len(ns)-1, identity.MaxIntentsPerUser)
	}
	for _, n := range ns[1:] {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("intent %s lost: only the oldest may be dropped", n)
		}
	}
	for _, n := range []string{"bob-before", "bob-after"} {
		if !consume(t, b, n, "auth0|bob") {
			t.Errorf("bob's %s lost to alice's bound", n)
		}
	}
}

func (s *suite) expiredIntentsDoNotCount(t *testing.T) {
	a, b, clock := s.stores(t)
	for _, n := range nonces("old", identity.MaxIntentsPerUser) {
		put(t, a, n, "auth0|alice")
	}
	clock.Advance(ttl + time.Millisecond)
	fresh := nonces("fresh", identity.MaxIntentsPerUser)
	for _, n := range fresh {
		put(t, a, n, "auth0|alice")
	}
	for _, n := range fresh {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("live intent %s dropped: expired ones counted toward the bound", n)
		}
	}
}

func (s *suite) consumedIntentsDoNotCount(t *testing.T) {
	a, b, _ := s.stores(t)
	ns := nonces("alice", identity.MaxIntentsPerUser+1)
	for _, n := range ns[:2] {
		put(t, a, n, "auth0|alice")
	}
	if !consume(t, b, ns[1], "auth0|alice") {
		t.Fatalf("intent %s refused", ns[1])
	}
	// Live now: ns[0], then MaxIntentsPerUser-1 more: exactly the bound.
	for _, n := range ns[2:] {
		put(t, a, n, "auth0|alice")
	}
	for _, n := range append([]string{ns[0]}, ns[2:]...) {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("intent %s dropped with only %d live: a consumed one still counted", n, identity.MaxIntentsPerUser)
		}
	}
}

func (s *suite) concurrentConsumes(t *testing.T) {
	a, b, _ := s.stores(t)
	put(t, a, "n1", "auth0|alice")
	const n = 16
	var won atomic.Int32
	ctx := testkit.Context(t)
	errs := testkit.Parallel(t, n, func(i int) error {
		store := a
		if i%2 == 1 {
			store = b
		}
		ok, err := store.ConsumeIntent(ctx, "n1", "auth0|alice")
		if ok {
			won.Add(1)
		}
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := won.Load(); got != 1 {
		t.Errorf("%d of %d concurrent consumes of one intent succeeded, want exactly 1", got, n)
	}
}

func (s *suite) concurrentPuts(t *testing.T) {
	a, b, _ := s.stores(t)
	const n = 4 * identity.MaxIntentsPerUser
	ns := nonces("alice", n)
	ctx := testkit.Context(t)
	errs := testkit.Parallel(t, n, func(i int) error {
		store := a
		if i%2 == 1 {
			store = b
		}
		return store.PutIntent(ctx, ns[i], "auth0|alice", ttl)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, n := range ns {
		if consume(t, a, n, "auth0|alice") {
			live++
		}
	}
	if live != identity.MaxIntentsPerUser {
		t.Errorf("%d intents live after %d concurrent puts, want exactly %d", live, n, identity.MaxIntentsPerUser)
	}
}

func (s *suite) revokeIntents(t *testing.T) {
	a, b, _ := s.stores(t)
	ctx := testkit.Context(t)
	ns := nonces("alice", 3)
	for _, n := range ns {
		put(t, a, n, "auth0|alice")
	}
	put(t, a, "bob", "auth0|bob")
	if err := b.RevokeIntents(ctx, "auth0|alice"); err != nil {
		t.Fatalf("RevokeIntents: %v", err)
	}
	for _, n := range ns {
		if consume(t, a, n, "auth0|alice") {
			t.Errorf("intent %s consumed after its subject's intents were revoked", n)
		}
	}
	if !consume(t, a, "bob", "auth0|bob") {
		t.Error("bob's intent lost to a revocation of alice's")
	}
	// A subject without intents, or with expired ones only, revokes without error.
	for _, sub := range []string{"auth0|nobody", "auth0|alice"} {
		if err := a.RevokeIntents(ctx, sub); err != nil {
			t.Errorf("RevokeIntents(%s) with nothing to revoke: %v", sub, err)
		}
	}
	// The subject starts over: a new intent is live, and the bound counts from zero.
	fresh := nonces("fresh", identity.MaxIntentsPerUser)
	for _, n := range fresh {
		put(t, a, n, "auth0|alice")
	}
	for _, n := range fresh {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("intent %s put after the revocation was refused", n)
		}
	}
}

// richView uses every field of a View, with values a careless encoding would lose:
// false and true booleans, empty and non-ASCII strings, a user id holding a "|".
func richView(userID string) identity.View {
	return identity.View{UserID: userID, Identities: []identity.Identity{
		{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice Éxample 🙂", Picture: "https://img.example/a.png?s=1&t=2"}},
		{Provider: "oauth2", UserID: "conn|id", Connection: "conn", IsSocial: true},
		{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true,
			Profile: identity.Profile{Email: "alice@users.noreply.example", Name: "alice-gh"}},
	}}
}

// equateEmpty lets a store return a nil slice for an empty one and vice versa.
var equateEmpty = cmpopts.EquateEmpty()

func getView(t *testing.T, s identity.Store, userID string) (identity.View, bool) {
	t.Helper()
	v, ok, err := s.GetView(testkit.Context(t), userID)
	if err != nil {
		t.Fatalf("GetView(%q): %v", userID, err)
	}
	if !ok && !cmp.Equal(identity.View{}, v, equateEmpty) {
		t.Errorf("GetView(%q) reported a miss with a view: %+v", userID, v)
	}
	return v, ok
}

func setView(t *testing.T, s identity.Store, v identity.View) {
	t.Helper()
	if err := s.SetView(testkit.Context(t), v.UserID, v, ttl); err != nil {
		t.Fatalf("SetView(%q): %v", v.UserID, err)
	}
}

func deleteView(t *testing.T, s identity.Store, userID string) {
	t.Helper()
	if err := s.DeleteView(testkit.Context(t), userID); err != nil {
		t.Fatalf("DeleteView(%q): %v", userID, err)
	}
}

func (s *suite) viewRoundTrip(t *testing.T) {
	a, b, _ := s.stores(t)
	if _, ok := getView(t, a, "auth0|alice"); ok {
		t.Fatal("an empty store had a view")
	}
	// A sealed view keeps its Doc (the encoded view and its tag) byte for byte.
	for _, v := range []identity.View{richView("auth0|alice"), {UserID: "oauth2|conn|id"}, identity.Seal(richView("auth0|carol"))} {
		setView(t, a, v)
		got, ok := getView(t, b, v.UserID)
		if !ok {
			t.Fatalf("view of %s missing right after SetView", v.UserID)
		}
		if diff := cmp.Diff(v, got, equateEmpty); diff != "" {
			t.Errorf("view of %s (-set +got):\n%s", v.UserID, diff)
		}
	}
}

func (s *suite) viewTTL(t *testing.T) {
	a, b, clock := s.stores(t)
	v := richView("auth0|alice")
	setView(t, a, v)
	clock.Advance(ttl)
	if _, ok := getView(t, b, v.UserID); !ok {
		t.Fatal("view missing exactly at its ttl")
	}
	clock.Advance(time.Millisecond)
	if _, ok := getView(t, b, v.UserID); ok {
		t.Error("view served after its ttl")
	}
	// Another write (which may sweep) does not bring it back.
	setView(t, a, richView("auth0|bob"))
	if _, ok := getView(t, b, v.UserID); ok {
		t.Error("expired view served after another SetView")
	}
}

func (s *suite) viewOverwriteAndDelete(t *testing.T) {
	a, b, clock := s.stores(t)
	alice, bob := richView("auth0|alice"), richView("auth0|bob")
	setView(t, a, alice)
	setView(t, a, bob)

	// A second SetView replaces the view and restarts its ttl.
	clock.Advance(ttl / 2)
	newer := alice
	newer.Identities = alice.Identities[:1]
	setView(t, b, newer)
	clock.Advance(ttl/2 + time.Minute)
	got, ok := getView(t, a, alice.UserID)
	if !ok {
		t.Fatal("overwritten view expired with the ttl of the view it replaced")
	}
	if diff := cmp.Diff(newer, got, equateEmpty); diff != "" {
		t.Errorf("view after overwrite (-want +got):\n%s", diff)
	}
	if _, ok := getView(t, a, bob.UserID); ok {
		t.Error("bob's view outlived its ttl")
	}

	setView(t, a, bob)
	deleteView(t, b, alice.UserID)
	if _, ok := getView(t, a, alice.UserID); ok {
		t.Error("view served after DeleteView")
	}
	if _, ok := getView(t, a, bob.UserID); !ok {
		t.Error("deleting alice's view deleted bob's")
	}
	deleteView(t, b, alice.UserID) // already gone: no error
	deleteView(t, b, "auth0|nobody")
}

type lockResult struct {
	unlock func()
	err    error
}

// lockAsync calls Lock in a goroutine. Whoever receives a successful result owns
// its unlock.
func lockAsync(ctx context.Context, s identity.Locker, key string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		unlock, err := s.Lock(ctx, key)
		ch <- lockResult{unlock, err}
	}()
	return ch
}

func lock(t *testing.T, s identity.Locker, key string) func() {
	t.Helper()
	unlock, err := s.Lock(testkit.Context(t), key)
	if err != nil {
		t.Fatalf("Lock(%q) of a free key: %v", key, err)
	}
	return unlock
}

// stillWaiting fails the test if a Lock call answers within blockedFor.
func stillWaiting(t *testing.T, ch <-chan lockResult, why string) {
	t.Helper()
	select {
	case r := <-ch:
		if r.unlock != nil {
			r.unlock()
		}
		t.Fatalf("Lock returned (err %v) %s", r.err, why)
	case <-time.After(blockedFor):
	}
}

// acquired waits (bounded) for a Lock call to succeed and returns its unlock.
func acquired(t *testing.T, ch <-chan lockResult, what string) func() {
	t.Helper()
	r := testkit.Recv(t, ch, what)
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	return r.unlock
}

func (s *suite) lockExclusive(t *testing.T) {
	a, b, _ := s.stores(t)
	unlockA := lock(t, a, "auth0|alice")
	second := lockAsync(testkit.Context(t), b, "auth0|alice")
	stillWaiting(t, second, "while another holder had the key")
	// Another key is independent.
	lock(t, b, "auth0|bob")()
	unlockA()
	acquired(t, second, "the waiting Lock after unlock")()
}

func (s *suite) lockWaitEndsWithContext(t *testing.T) {
	a, b, _ := s.stores(t)
	unlock := lock(t, a, "auth0|alice")

	ctx, cancel := context.WithCancel(testkit.Context(t))
	waiter := lockAsync(ctx, b, "auth0|alice")
	stillWaiting(t, waiter, "while another holder had the key")
	cancel()
	r := testkit.Recv(t, waiter, "Lock to return after its context was cancelled")
	if !errors.Is(r.err, context.Canceled) || r.unlock != nil {
		t.Fatalf("Lock after cancel = (unlock %v, %v), want (nil, context.Canceled)", r.unlock != nil, r.err)
	}

	dctx, dcancel := context.WithTimeout(testkit.Context(t), blockedFor)
	defer dcancel()
	r = testkit.Recv(t, lockAsync(dctx, b, "auth0|alice"), "Lock to return at its context's deadline")
	if !errors.Is(r.err, context.DeadlineExceeded) || r.unlock != nil {
		t.Fatalf("Lock past its deadline = (unlock %v, %v), want (nil, context.DeadlineExceeded)", r.unlock != nil, r.err)
	}

	// The abandoned waits left the key usable.
	unlock()
	lock(t, b, "auth0|alice")()
}

func (s *suite) unlockOnlyOwnHold(t *testing.T) {
	a, b, _ := s.stores(t)
	unlockFirst := lock(t, a, "auth0|alice")
	unlockFirst()
	unlockFirst() // twice: harmless
	unlockSecond := lock(t, b, "auth0|alice")
	unlockFirst() // the first holder's stale unlock must not free the second's hold
	third := lockAsync(testkit.Context(t), a, "auth0|alice")
	stillWaiting(t, third, "after a stale unlock: it released another holder's lock")
	unlockSecond()
	acquired(t, third, "the waiting Lock after the holder's unlock")()
}

func (s *suite) lockSerializes(t *testing.T) {
	a, b, _ := s.stores(t)
	const workers, rounds = 8, 5
	var inside, most atomic.Int32
	ctx := testkit.Context(t)
	errs := testkit.Parallel(t, workers, func(i int) error {
		store := a
		if i%2 == 1 {
			store = b
		}
		for range rounds {
			unlock, err := store.Lock(ctx, "auth0|alice")
			if err != nil {
				return err
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			inside.Add(-1)
			unlock()
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d holders of one key at once, want 1", m)
	}
}

func (s *suite) needsLockTTL(t *testing.T) time.Duration {
	t.Helper()
	if s.opts.LockTTL <= 0 {
		t.Skip("this store's locks do not expire (Options.LockTTL is 0): its holders cannot die without it")
	}
	return s.opts.LockTTL
}

// expiryWait bounds a wait for a lock to expire: its TTL, plus slack for a loaded
// machine.
func expiryWait(t *testing.T, lockTTL time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*lockTTL+testkit.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (s *suite) abandonedLockExpires(t *testing.T) {
	lockTTL := s.needsLockTTL(t)
	a, b, _ := s.stores(t)
	start := time.Now()
	_ = lock(t, a, "auth0|alice") // its holder dies: no unlock, ever
	unlock, err := b.Lock(expiryWait(t, lockTTL), "auth0|alice")
	if err != nil {
		t.Fatalf("Lock of an abandoned key (lock TTL %v): %v", lockTTL, err)
	}
	unlock()
	// Not before its time either. A tenth off for a backend that keeps time in
	// coarser steps than this process.
	if took := time.Since(start); took < lockTTL*9/10 {
		t.Errorf("an abandoned lock was free after %v, before its %v lifetime", took, lockTTL)
	}
}

func (s *suite) unlockAfterExpiry(t *testing.T) {
	lockTTL := s.needsLockTTL(t)
	a, b, _ := s.stores(t)
	unlockLost := lock(t, a, "auth0|alice")
	unlockNow, err := b.Lock(expiryWait(t, lockTTL), "auth0|alice")
	if err != nil {
		t.Fatalf("Lock of an expired hold: %v", err)
	}
	unlockLost() // the first holder wakes up late: it must not free the new hold
	// Watched for less than a lock TTL, so that the new hold cannot expire meanwhile.
	ctx, cancel := context.WithTimeout(testkit.Context(t), lockTTL/4)
	defer cancel()
	r := testkit.Recv(t, lockAsync(ctx, a, "auth0|alice"), "Lock to return at its context's deadline")
	if r.err == nil {
		r.unlock()
		t.Fatal("an expired hold's unlock released its successor's lock")
	}
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key = %v, want context.DeadlineExceeded", r.err)
	}
	unlockNow()
	lock(t, a, "auth0|alice")()
}

// sharedCaches returns a fresh store and its replica as identity.SharedCache, or
// skips the test when the store is not one (a store of one process keeps the
// stale-read guard in the service).
func (s *suite) sharedCaches(t *testing.T) (a, b sharedStore, clock *testkit.Clock) {
	t.Helper()
	sa, sb, clock := s.stores(t)
	ca, okA := sa.(identity.SharedCache)
	cb, okB := sb.(identity.SharedCache)
	if !okA || !okB {
		t.Skip("this store does not implement identity.SharedCache")
	}
	return sharedStore{sa, ca}, sharedStore{sb, cb}, clock
}

// sharedStore is a store that is also a SharedCache.
type sharedStore struct {
	identity.Store
	identity.SharedCache
}

func generation(t *testing.T, s identity.SharedCache, userID string) uint64 {
	t.Helper()
	g, err := s.Generation(testkit.Context(t), userID)
	if err != nil {
		t.Fatalf("Generation(%q): %v", userID, err)
	}
	return g
}

func wrote(t *testing.T, s identity.SharedCache, userID string, v *identity.View) {
	t.Helper()
	if err := s.Wrote(testkit.Context(t), userID, v, ttl); err != nil {
		t.Fatalf("Wrote(%q): %v", userID, err)
	}
}

func setViewIf(t *testing.T, s identity.SharedCache, gen uint64, v identity.View) bool {
	t.Helper()
	stored, err := s.SetViewIf(testkit.Context(t), v.UserID, gen, v, ttl)
	if err != nil {
		t.Fatalf("SetViewIf(%q, %d): %v", v.UserID, gen, err)
	}
	return stored
}

func (s *suite) wroteAdvancesGeneration(t *testing.T) {
	a, b, _ := s.sharedCaches(t)
	const alice, bob = "auth0|alice", "auth0|bob"
	aliceGen, bobGen := generation(t, a, alice), generation(t, a, bob)
	if generation(t, b, alice) != aliceGen {
		t.Fatal("the replicas disagree on a user's generation")
	}
	linked := richView(alice)
	wrote(t, a, alice, &linked)
	after := generation(t, b, alice)
	if after == aliceGen {
		t.Errorf("generation stayed %d across Wrote", after)
	}
	if g := generation(t, b, bob); g != bobGen {
		t.Errorf("alice's write moved bob's generation from %d to %d", bobGen, g)
	}
	got, ok := getView(t, b, alice)
	if !ok {
		t.Fatal("the view Wrote stored is missing on the replica")
	}
	if diff := cmp.Diff(linked, got, equateEmpty); diff != "" {
		t.Errorf("view after Wrote (-wrote +got):\n%s", diff)
	}

	// A write whose result is unknown forgets the view and, again, moves the
	// generation.
	wrote(t, b, alice, nil)
	if _, ok := getView(t, a, alice); ok {
		t.Error("view still cached after Wrote(nil)")
	}
	if g := generation(t, a, alice); g == after {
		t.Errorf("generation stayed %d across Wrote(nil)", g)
	}
}

func (s *suite) staleReadNotStored(t *testing.T) {
	a, b, _ := s.sharedCaches(t)
	const alice = "auth0|alice"
	linked := richView(alice)
	old := identity.View{UserID: alice, Identities: linked.Identities[:1]}

	// A read on A saw the generation, then B linked.
	before := generation(t, a, alice)
	wrote(t, b, alice, &linked)
	if setViewIf(t, a, before, old) {
		t.Error("SetViewIf stored a read older than a write")
	}
	if got, _ := getView(t, a, alice); !cmp.Equal(linked, got, equateEmpty) {
		t.Errorf("view = %+v, want the write's", got)
	}

	// A read that began after the write is stored, by either replica.
	after := generation(t, a, alice)
	if !setViewIf(t, b, after, old) {
		t.Fatal("SetViewIf at the current generation stored nothing")
	}
	got, ok := getView(t, a, alice)
	if !ok || !cmp.Equal(old, got, equateEmpty) {
		t.Errorf("view = %+v (ok %v), want the read's", got, ok)
	}
	// SetViewIf is no write: it leaves the generation, so reads stay storable.
	if g := generation(t, a, alice); g != after {
		t.Errorf("SetViewIf moved the generation from %d to %d", after, g)
	}

	// Another user's write does not outdate alice's reads.
	bob := richView("auth0|bob")
	wrote(t, a, bob.UserID, &bob)
	if !setViewIf(t, b, after, linked) {
		t.Error("bob's write outdated a read of alice")
	}
}

func (s *suite) sharedViewsExpire(t *testing.T) {
	a, b, clock := s.sharedCaches(t)
	alice, bob := richView("auth0|alice"), richView("auth0|bob")
	wrote(t, a, alice.UserID, &alice)
	if !setViewIf(t, a, generation(t, a, bob.UserID), bob) {
		t.Fatal("SetViewIf at the current generation stored nothing")
	}
	clock.Advance(ttl)
	for _, v := range []identity.View{alice, bob} {
		if _, ok := getView(t, b, v.UserID); !ok {
			t.Errorf("view of %s missing exactly at its ttl", v.UserID)
		}
	}
	clock.Advance(time.Millisecond)
	for _, v := range []identity.View{alice, bob} {
		if _, ok := getView(t, b, v.UserID); ok {
			t.Errorf("view of %s served after its ttl", v.UserID)
		}
	}
}

// racingStaleReads races writes against reads that saw the generation before any
// of them: whatever the order, the view left is a write's, since a read that lost
// the race to even one write must store nothing (the comparison and the store are
// one step).
func (s *suite) racingStaleReads(t *testing.T) {
	a, b, _ := s.sharedCaches(t)
	const alice, rounds, n = "auth0|alice", 5, 8
	stale := identity.View{UserID: alice}
	ctx := testkit.Context(t)
	for round := range rounds {
		gen := generation(t, a, alice)
		written := make([]identity.View, n)
		errs := testkit.Parallel(t, 2*n, func(i int) error {
			store := a
			if i%2 == 1 {
				store = b
			}
			if i < n {
				written[i] = identity.View{UserID: alice, Identities: richView(alice).Identities[:1]}
				written[i].Identities[0].Profile.Name = fmt.Sprintf("write %d.%d", round, i)
				return store.Wrote(ctx, alice, &written[i], ttl)
			}
			_, err := store.SetViewIf(ctx, alice, gen, stale, ttl)
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got, ok := getView(t, b, alice)
		if !ok {
			t.Fatalf("round %d: no view after %d writes", round, n)
		}
		if !slices.ContainsFunc(written, func(w identity.View) bool { return cmp.Equal(w, got, equateEmpty) }) {
			t.Fatalf("round %d: the view left is %+v, not one a write stored: a stale read won", round, got)
		}
	}
}
