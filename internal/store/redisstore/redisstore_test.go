package redisstore_test

// These tests run against the real Redis (testkit.RedisURL), each under its own key
// prefix. Every test talks to the store through two Stores with their own clients,
// as two linkbff replicas would: what one writes, the other must see.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// testLockTTL is the test stores' lock lifetime: short, because the tests of an
// abandoned lock wait for it in Redis time, yet far above a round trip.
const testLockTTL = 300 * time.Millisecond

// ttl is every intent's and view's lifetime here: long, so that only the test clock
// expires one, never Redis.
const ttl = 10 * time.Minute

// backend is one Redis key space (server and prefix) with one clock: what replicas
// share.
type backend struct {
	url, prefix string
	clock       *testkit.Clock
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	url := testkit.RedisURL(t)
	return &backend{url: url, prefix: testkit.RedisPrefix(t, url), clock: testkit.NewClock()}
}

// replica returns a Store with its own client (its own connections) on b: another
// linkbff process. hooks see every command of that client.
func (b *backend) replica(t *testing.T, hooks ...redis.Hook) *redisstore.Store {
	t.Helper()
	return b.replicaAt(t, b.url, hooks...)
}

func (b *backend) replicaAt(t *testing.T, url string, hooks ...redis.Hook) *redisstore.Store {
	t.Helper()
	rdb, err := redisstore.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	return redisstore.New(rdb, redisstore.Options{Prefix: b.prefix, Now: b.clock.Now, LockTTL: testLockTTL})
}

// replicas returns two replicas on a fresh backend.
func replicas(t *testing.T) (a, b *redisstore.Store, clock *testkit.Clock) {
	t.Helper()
	be := newBackend(t)
	return be.replica(t), be.replica(t), be.clock
}

// testContext ends when the test does, or after 10 seconds: no call can hang a test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, s identity.Store, nonce, subject string) {
	t.Helper()
	if err := s.PutIntent(testContext(t), nonce, subject, ttl); err != nil {
		t.Fatalf("PutIntent(%q, %q): %v", nonce, subject, err)
	}
}

func consume(t *testing.T, s identity.Store, nonce, subject string) bool {
	t.Helper()
	ok, err := s.ConsumeIntent(testContext(t), nonce, subject)
	if err != nil {
		t.Fatalf("ConsumeIntent(%q, %q): %v", nonce, subject, err)
	}
	return ok
}

// nonces returns n nonces whose lexical order is the reverse of their order here, so
// a store ordering intents by nonce instead of by age drops the wrong one.
func nonces(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, n-i)
	}
	return out
}

// parallel runs f(0..n-1) at once, each in its own goroutine, and returns their
// errors once all have returned.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestIntentIsConsumedOnceByItsSubjectOnly(t *testing.T) {
	a, b, _ := replicas(t)
	put(t, a, "n1", "auth0|alice")
	if consume(t, b, "unknown", "auth0|alice") {
		t.Error("an unknown nonce was consumed")
	}
	if consume(t, b, "n1", "auth0|bob") {
		t.Error("bob consumed alice's nonce")
	}
	if !consume(t, b, "n1", "auth0|alice") {
		t.Fatal("alice's nonce, issued on A, was refused on B (bob's attempt burnt it?)")
	}
	if consume(t, a, "n1", "auth0|alice") || consume(t, b, "n1", "auth0|alice") {
		t.Error("the nonce was consumed twice")
	}
}

func TestIntentExpiresByTheStoreClock(t *testing.T) {
	a, b, clock := replicas(t)
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
	put(t, a, "fresh", "auth0|alice") // sweeps the expired ones
	if consume(t, b, "past-ttl", "auth0|alice") {
		t.Error("expired intent consumed after another put")
	}
	if !consume(t, b, "fresh", "auth0|alice") {
		t.Error("fresh intent refused")
	}
}

func TestIntentsAreBoundedPerSubject(t *testing.T) {
	a, b, clock := replicas(t)
	put(t, a, "bob-before", "auth0|bob")
	// All on one instant of the clock: "oldest" is the first put, not the first
	// in the millisecond or in lexical order.
	ns := nonces("alice", identity.MaxIntentsPerUser+2)
	for _, n := range ns {
		put(t, a, n, "auth0|alice")
	}
	put(t, a, "bob-after", "auth0|bob")
	for _, n := range ns[:2] {
		if consume(t, b, n, "auth0|alice") {
			t.Errorf("intent %s survived %d newer ones (the bound is %d)", n, len(ns)-1, identity.MaxIntentsPerUser)
		}
	}
	for _, n := range ns[2:] {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("intent %s lost: only the oldest may be dropped", n)
		}
	}
	for _, n := range []string{"bob-before", "bob-after"} {
		if !consume(t, b, n, "auth0|bob") {
			t.Errorf("bob's %s lost to alice's bound", n)
		}
	}

	// Expired and consumed intents do not count toward the bound.
	old := nonces("old", identity.MaxIntentsPerUser)
	for _, n := range old {
		put(t, a, n, "auth0|alice")
	}
	clock.Advance(ttl + time.Millisecond)
	fresh := nonces("fresh", identity.MaxIntentsPerUser+1)
	put(t, a, fresh[0], "auth0|alice")
	if !consume(t, b, fresh[0], "auth0|alice") {
		t.Fatalf("intent %s refused", fresh[0])
	}
	for _, n := range fresh[1:] {
		put(t, a, n, "auth0|alice")
	}
	for _, n := range fresh[1:] {
		if !consume(t, b, n, "auth0|alice") {
			t.Errorf("live intent %s dropped: an expired or consumed one counted toward the bound", n)
		}
	}
}

// TestConcurrentConsumesAcrossReplicasSucceedOnce: goroutines on both replicas race
// for each of several nonces; exactly one wins each.
func TestConcurrentConsumesAcrossReplicasSucceedOnce(t *testing.T) {
	a, b, _ := replicas(t)
	ctx := testContext(t)
	const racers = 16
	for round := range 10 {
		nonce := fmt.Sprintf("n%d", round)
		put(t, a, nonce, "auth0|alice")
		var won atomic.Int32
		errs := parallel(racers, func(i int) error {
			s := a
			if i%2 == 1 {
				s = b
			}
			ok, err := s.ConsumeIntent(ctx, nonce, "auth0|alice")
			if ok {
				won.Add(1)
			}
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := won.Load(); got != 1 {
			t.Fatalf("round %d: %d of %d concurrent consumes succeeded, want exactly 1", round, got, racers)
		}
	}
}

func TestConcurrentPutsAcrossReplicasKeepTheBound(t *testing.T) {
	a, b, _ := replicas(t)
	ctx := testContext(t)
	const n = 4 * identity.MaxIntentsPerUser
	ns := nonces("alice", n)
	errs := parallel(n, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.PutIntent(ctx, ns[i], "auth0|alice", ttl)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, nonce := range ns {
		if consume(t, a, nonce, "auth0|alice") {
			live++
		}
	}
	if live != identity.MaxIntentsPerUser {
		t.Errorf("%d intents live after %d concurrent puts, want %d", live, n, identity.MaxIntentsPerUser)
	}
}

// richView uses every field of a View, with values a careless encoding would lose.
func richView(userID string) identity.View {
	return identity.View{UserID: userID, Identities: []identity.Identity{
		{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice Éxample 🙂", Picture: "https://img.example/a.png?s=1&t=2"}},
		{Provider: "oauth2", UserID: "conn|id", Connection: "conn", IsSocial: true},
	}}
}

func getView(t *testing.T, s identity.Store, userID string) (identity.View, bool) {
	t.Helper()
	v, ok, err := s.GetView(testContext(t), userID)
	if err != nil {
		t.Fatalf("GetView(%q): %v", userID, err)
	}
	return v, ok
}

func TestViewIsSharedAndExpiresByTheStoreClock(t *testing.T) {
	a, b, clock := replicas(t)
	ctx := testContext(t)
	if _, ok := getView(t, b, "auth0|alice"); ok {
		t.Fatal("a fresh store has a view")
	}
	want := richView("auth0|alice")
	if err := a.SetView(ctx, "auth0|alice", want, ttl); err != nil {
		t.Fatal(err)
	}
	clock.Advance(ttl)
	got, ok := getView(t, b, "auth0|alice")
	if !ok {
		t.Fatal("view set on A is missing on B at its ttl")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("view on B (-set on A +got):\n%s", diff)
	}
	if _, ok := getView(t, b, "auth0|bob"); ok {
		t.Error("bob has alice's view")
	}
	clock.Advance(time.Millisecond)
	if _, ok := getView(t, b, "auth0|alice"); ok {
		t.Error("view served after its ttl")
	}

	if err := a.SetView(ctx, "auth0|alice", want, ttl); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteView(ctx, "auth0|alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := getView(t, a, "auth0|alice"); ok {
		t.Error("view deleted on B still served on A")
	}
	if err := b.DeleteView(ctx, "auth0|nobody"); err != nil {
		t.Errorf("deleting a missing view: %v", err)
	}
}

// TestStaleReadGuardAcrossReplicas: a read on A that saw the generation before a
// write on B does not overwrite the write's view; a read after it does cache.
func TestStaleReadGuardAcrossReplicas(t *testing.T) {
	a, b, _ := replicas(t)
	ctx := testContext(t)
	const user = "auth0|alice"
	before, err := a.Generation(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	old := identity.View{UserID: user, Identities: richView(user).Identities[:1]}
	linked := richView(user)

	if err := b.Wrote(ctx, user, &linked, ttl); err != nil { // B links meanwhile
		t.Fatal(err)
	}
	stored, err := a.SetViewIf(ctx, user, before, old, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if stored {
		t.Error("A's stale read was cached over B's write")
	}
	if got, _ := getView(t, a, user); !cmp.Equal(linked, got) {
		t.Errorf("cached view = %+v, want the write's", got)
	}

	after, err := a.Generation(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatalf("generation stayed %d across a write", after)
	}
	if stored, err := a.SetViewIf(ctx, user, after, old, ttl); err != nil || !stored {
		t.Errorf("a read after the write was not cached: %v, %v", stored, err)
	}

	// A write whose result is unknown forgets the view and, again, outdates reads.
	if err := b.Wrote(ctx, user, nil, ttl); err != nil {
		t.Fatal(err)
	}
	if _, ok := getView(t, a, user); ok {
		t.Error("view still cached after a write of unknown result")
	}
	if stored, _ := a.SetViewIf(ctx, user, after, old, ttl); stored {
		t.Error("a read from before the second write was cached")
	}
}

// refusals is a hook that reports every lock attempt (SET NX) that found the lock
// held: the proof that a waiter is waiting, without sleeping.
type refusals chan struct{}

func (r refusals) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r refusals) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.BoolCmd); ok && strings.EqualFold(cmd.Name(), "set") && err == nil && !c.Val() {
			select {
			case r <- struct{}{}:
			default:
			}
		}
		return err
	}
}

func (r refusals) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// waitRefused waits until the hooked replica has found the lock held twice. Call it
// once the previous waiter has its lock: earlier refusals are forgotten.
func (r refusals) waitRefused(t *testing.T) {
	t.Helper()
	for len(r) > 0 {
		<-r
	}
	for range 2 {
		select {
		case <-r:
		case <-time.After(5 * time.Second):
			t.Fatal("the waiter never found the lock held (did it get it?)")
		}
	}
}

type lockResult struct {
	unlock func()
	err    error
	at     time.Time
}

func lockAsync(ctx context.Context, s identity.Locker, key string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		unlock, err := s.Lock(ctx, key)
		ch <- lockResult{unlock, err, time.Now()}
	}()
	return ch
}

func recvLock(t *testing.T, ch <-chan lockResult) lockResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Lock: %v", r.err)
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not return")
	}
	return lockResult{}
}

func TestLockHeldOnOneReplicaBlocksTheOther(t *testing.T) {
	be := newBackend(t)
	waits := make(refusals, 16)
	a, b := be.replica(t), be.replica(t, waits)
	ctx := testContext(t)

	unlockA, err := a.Lock(ctx, "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther, err := b.Lock(ctx, "auth0|bob")
	if err != nil {
		t.Fatalf("another key waited for alice's: %v", err)
	}
	unlockOther()

	second := lockAsync(ctx, b, "auth0|alice")
	waits.waitRefused(t)
	select {
	case <-second:
		t.Fatal("B got the lock while A held it")
	default:
	}
	unlockA()
	unlockA() // a second unlock releases nothing of B's
	r := recvLock(t, second)

	third := lockAsync(ctx, b, "auth0|alice")
	waits.waitRefused(t)
	select {
	case <-third:
		t.Fatal("a second unlock of A released B's hold")
	default:
	}
	r.unlock()
	recvLock(t, third).unlock()
}

// TestLockSerializesContenders: many holders on both replicas, never two at once.
func TestLockSerializesContenders(t *testing.T) {
	a, b, _ := replicas(t)
	ctx := testContext(t)
	var inside, most atomic.Int32
	errs := parallel(12, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		unlock, err := s.Lock(ctx, "auth0|alice")
		if err != nil {
			return err
		}
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		// Hold across a round trip, so an overlapping holder would be seen inside.
		_, _, _ = s.GetView(ctx, "auth0|alice")
		inside.Add(-1)
		unlock()
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d holders at once, want 1", m)
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	a, b, _ := replicas(t)
	unlock, err := a.Lock(testContext(t), "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	cctx, cancel := context.WithCancel(context.Background())
	waiter := lockAsync(cctx, b, "auth0|alice")
	cancel()
	select {
	case r := <-waiter:
		if !errors.Is(r.err, context.Canceled) || r.unlock != nil {
			t.Errorf("Lock after cancel = (unlock %v, %v), want (nil, context.Canceled)", r.unlock != nil, r.err)
		}
		if errors.Is(r.err, redisstore.ErrUnavailable) {
			t.Errorf("a wait for a held lock reported Redis unavailable: %v", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lock ignored its cancelled context")
	}

	const deadline = 100 * time.Millisecond
	dctx, dcancel := context.WithTimeout(context.Background(), deadline)
	defer dcancel()
	start := time.Now()
	_, err = b.Lock(dctx, "auth0|alice")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock past its deadline: %v, want context.DeadlineExceeded", err)
	}
	// The back-off never sleeps past the deadline (by more than a poll and a
	// scheduling delay).
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("Lock returned %v after a %v deadline", took, deadline)
	}
}

// TestAbandonedLockExpires: a holder that dies (never unlocks) frees the lock after
// the lock TTL, and its late unlock then releases nothing of the next holder's.
func TestAbandonedLockExpires(t *testing.T) {
	be := newBackend(t)
	waits := make(refusals, 16)
	a, b, c := be.replica(t), be.replica(t), be.replica(t, waits)
	ctx := testContext(t)

	start := time.Now()
	staleUnlock, err := a.Lock(ctx, "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	r := recvLock(t, lockAsync(ctx, b, "auth0|alice")) // A "died": B waits for the TTL
	if took := r.at.Sub(start); took < testLockTTL {
		t.Errorf("B got the lock %v after A took it, before the %v lock TTL", took, testLockTTL)
	}

	staleUnlock() // A comes back from the dead
	third := lockAsync(ctx, c, "auth0|alice")
	waits.waitRefused(t)
	select {
	case <-third:
		t.Fatal("the expired holder's unlock released B's hold")
	default:
	}
	r.unlock()
	recvLock(t, third).unlock()
}

// TestPrefixesIsolate: stores on other prefixes share nothing.
func TestPrefixesIsolate(t *testing.T) {
	one, two := newBackend(t), newBackend(t)
	two.clock = one.clock
	a, b := one.replica(t), two.replica(t)
	ctx := testContext(t)
	put(t, a, "n1", "auth0|alice")
	if consume(t, b, "n1", "auth0|alice") {
		t.Error("an intent crossed prefixes")
	}
	if err := a.SetView(ctx, "auth0|alice", richView("auth0|alice"), ttl); err != nil {
		t.Fatal(err)
	}
	if _, ok := getView(t, b, "auth0|alice"); ok {
		t.Error("a view crossed prefixes")
	}
	unlock, err := a.Lock(ctx, "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	unlockB, err := b.Lock(lctx, "auth0|alice")
	if err != nil {
		t.Fatalf("a lock crossed prefixes: %v", err)
	}
	unlockB()
}

func TestNewClient(t *testing.T) {
	rdb, err := redisstore.NewClient("redis://user:s3cret@127.0.0.1:6390/2")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	o := rdb.Options()
	if o.DialTimeout != redisstore.DefaultDialTimeout || o.ReadTimeout != redisstore.DefaultIOTimeout ||
		o.WriteTimeout != redisstore.DefaultIOTimeout || o.PoolTimeout != redisstore.DefaultPoolTimeout || !o.ContextTimeoutEnabled {
		t.Errorf("timeouts = dial %v read %v write %v pool %v ctx %v, want the defaults and context deadlines honoured",
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.ContextTimeoutEnabled)
	}
	if o.DB != 2 || o.Username != "user" || o.Password != "s3cret" {
		t.Errorf("URL not applied: db %d user %q", o.DB, o.Username)
	}

	rdb2, err := redisstore.NewClient("redis://127.0.0.1:6390?dial_timeout=7s&read_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb2.Close()
	if o := rdb2.Options(); o.DialTimeout != 7*time.Second || o.ReadTimeout != 3*time.Second {
		t.Errorf("URL timeouts overridden: dial %v read %v", o.DialTimeout, o.ReadTimeout)
	}

	for _, bad := range []string{"http://127.0.0.1:6379", "redis://:s3cret@127.0.0.1:6379/notadb", "127.0.0.1:6379", "redis://:s3cret@127.0.0.1:notaport"} {
		if _, err := redisstore.NewClient(bad); err == nil {
			t.Errorf("NewClient(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewClient(%q) error shows the password: %v", bad, err)
		}
	}
}
