package redisstore_test

// These tests run against the real Redis (testkit.RedisURL), each under its own key
// prefix. TestContract runs identity's store contract with a second Store on its own
// client as the replica, as another linkbff process would be; the tests after it
// are what only Redis has: key prefixes, the client's options, and (outage_test.go)
// a Redis that goes away.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/identity/storetest"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// testLockTTL is the test stores' lock lifetime: short, because the contract's tests
// of an abandoned lock wait for it in Redis time, yet far above a round trip.
const testLockTTL = 300 * time.Millisecond

// ttl is every intent's and view's lifetime here: long, so that only a test clock
// expires one, never Redis.
const ttl = 10 * time.Minute

// backend is one Redis key space (server and prefix) with one clock: what replicas
// share.
type backend struct {
	url, prefix string
	clock       *testkit.Clock
}

func newBackend(t *testing.T, clock *testkit.Clock) *backend {
	t.Helper()
	url := testkit.RedisURL(t)
	return &backend{url: url, prefix: testkit.RedisPrefix(t, url), clock: clock}
}

// replica returns a Store with its own client (its own connections) on b: another
// linkbff process.
func (b *backend) replica(t *testing.T) *redisstore.Store {
	t.Helper()
	return b.replicaAt(t, b.url)
}

// replicaAt is replica through another address of the same server (a proxy).
func (b *backend) replicaAt(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	return redisstore.New(newClient(t, url), redisstore.Options{Prefix: b.prefix, Now: b.clock.Now, LockTTL: testLockTTL})
}

// newClient returns a client of its own (NewClient) on url, closed when t ends.
func newClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	rdb, err := redisstore.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestContract: every rule of identity's store contract, SharedCache included, with
// each test on a fresh prefix and every cross-store test across two clients.
func TestContract(t *testing.T) {
	var (
		mu       sync.Mutex
		backends = map[identity.Store]*backend{}
	)
	storetest.Run(t, func(t *testing.T, clock *testkit.Clock) identity.Store {
		be := newBackend(t, clock)
		s := be.replica(t)
		mu.Lock()
		defer mu.Unlock()
		backends[s] = be
		return s
	}, storetest.Options{
		LockTTL: testLockTTL,
		Replica: func(t *testing.T, s identity.Store) identity.Store {
			mu.Lock()
			be := backends[s]
			mu.Unlock()
			return be.replica(t)
		},
	})
}

// The store is what identity needs, including the shared stale-read guard.
var (
	_ identity.Store       = (*redisstore.Store)(nil)
	_ identity.SharedCache = (*redisstore.Store)(nil)
)

// TestLockWaitIsNoOutage: a wait for a lock that another holds ends with the
// caller's context error, which says nothing about Redis: answering it as
// ErrUnavailable would tell the client that shared state is down.
func TestLockWaitIsNoOutage(t *testing.T) {
	be := newBackend(t, testkit.NewClock())
	a, b := be.replica(t), be.replica(t)
	unlock, err := a.Lock(testkit.Context(t), "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(testkit.Context(t), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx, "auth0|alice")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Lock of a held key past its deadline: %v, want context.DeadlineExceeded and not ErrUnavailable", err)
	}
}

// TestPrefixesIsolate: stores on other prefixes of one server share nothing.
func TestPrefixesIsolate(t *testing.T) {
	clock := testkit.NewClock()
	a, b := newBackend(t, clock).replica(t), newBackend(t, clock).replica(t)
	ctx := testkit.Context(t)
	if err := a.PutIntent(ctx, "n1", "auth0|alice", ttl); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.ConsumeIntent(ctx, "n1", "auth0|alice"); ok || err != nil {
		t.Errorf("ConsumeIntent of another prefix's intent = %v, %v; want false, nil", ok, err)
	}
	v := identity.View{UserID: "auth0|alice", Identities: []identity.Identity{{Provider: "auth0", UserID: "alice", Primary: true}}}
	if err := a.Wrote(ctx, v.UserID, &v, ttl); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.GetView(ctx, v.UserID); ok || err != nil {
		t.Errorf("GetView of another prefix's view = %v, %v; want false, nil", ok, err)
	}
	if g, err := b.Generation(ctx, v.UserID); g != 0 || err != nil {
		t.Errorf("Generation after another prefix's write = %d, %v; want 0, nil", g, err)
	}
	unlock, err := a.Lock(ctx, "auth0|alice")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	unlockB, err := b.Lock(ctx, "auth0|alice")
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
