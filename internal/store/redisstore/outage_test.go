package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

type storeOp struct {
	name string
	run  func(context.Context) error
}

// storeOps is every operation of s.
func storeOps(s *redisstore.Store) []storeOp {
	v := richView("auth0|alice")
	return []storeOp{
		{"PutIntent", func(ctx context.Context) error { return s.PutIntent(ctx, "outage", "auth0|bob", ttl) }},
		{"ConsumeIntent", func(ctx context.Context) error { _, err := s.ConsumeIntent(ctx, "unknown", "auth0|bob"); return err }},
		{"GetView", func(ctx context.Context) error { _, _, err := s.GetView(ctx, "auth0|alice"); return err }},
		{"SetView", func(ctx context.Context) error { return s.SetView(ctx, "auth0|alice", v, ttl) }},
		{"DeleteView", func(ctx context.Context) error { return s.DeleteView(ctx, "auth0|carol") }},
		{"Generation", func(ctx context.Context) error { _, err := s.Generation(ctx, "auth0|alice"); return err }},
		{"SetViewIf", func(ctx context.Context) error { _, err := s.SetViewIf(ctx, "auth0|alice", 0, v, ttl); return err }},
		{"Wrote", func(ctx context.Context) error { return s.Wrote(ctx, "auth0|alice", &v, ttl) }},
		{"Lock", func(ctx context.Context) error {
			unlock, err := s.Lock(ctx, "auth0|alice")
			if unlock != nil {
				unlock()
			}
			return err
		}},
		{"Ping", s.Ping},
	}
}

// runOps runs every op at once, each under its own context of the given timeout,
// and returns what each returned and how long it took.
func runOps(ops []storeOp, timeout time.Duration) (errs []error, took []time.Duration) {
	took = make([]time.Duration, len(ops))
	errs = parallel(len(ops), func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		err := ops[i].run(ctx)
		took[i] = time.Since(start)
		return err
	})
	return errs, took
}

func wantWorking(t *testing.T, ops []storeOp) {
	t.Helper()
	errs, _ := runOps(ops, 5*time.Second)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", ops[i].name, err)
		}
	}
}

// waitResumed retries a Ping until Redis answers through s again and returns how
// long that took. Polling is the subject here, not a barrier: the client's own
// reconnection is time-based (it probes a refused server about once a second), and
// the test bounds how long it may take.
func waitResumed(t *testing.T, s *redisstore.Store) time.Duration {
	t.Helper()
	const bound = 10 * time.Second
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.Ping(ctx)
		cancel()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("Redis did not come back through the store within %v: %v", bound, err)
		}
		<-tick.C
	}
}

// TestRedisCutAnswersUnavailableAndResumes: with the connection to Redis cut
// (refused, and pooled connections dropped), every operation returns ErrUnavailable
// promptly, never hanging or panicking; when the network heals, the same Store
// works again and nothing Redis held was lost.
func TestRedisCutAnswersUnavailableAndResumes(t *testing.T) {
	be := newBackend(t)
	proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, be.url))
	s := be.replicaAt(t, testkit.RedisURLVia(t, be.url, proxy.Addr()))
	ops := storeOps(s)
	wantWorking(t, ops) // the pool now holds live connections, which the cut drops
	put(t, s, "before-cut", "auth0|alice")

	proxy.Cut()
	const deadline = 5 * time.Second
	errs, took := runOps(ops, deadline)
	var slowest time.Duration
	for i, err := range errs {
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("%s with Redis cut: %v, want ErrUnavailable", ops[i].name, err)
		}
		if took[i] >= deadline {
			t.Errorf("%s with Redis cut took %v, its whole deadline", ops[i].name, took[i])
		}
		slowest = max(slowest, took[i])
	}
	t.Logf("Redis cut: every operation answered ErrUnavailable within %v", slowest)
	// Again, now that the client knows the server is gone.
	errs, took = runOps(ops, deadline)
	slowest = 0
	for i, err := range errs {
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("%s with Redis still cut: %v, want ErrUnavailable", ops[i].name, err)
		}
		slowest = max(slowest, took[i])
	}
	t.Logf("Redis still cut: every operation answered ErrUnavailable within %v", slowest)

	proxy.Restore()
	t.Logf("Redis back: the store answered again after %v", waitResumed(t, s))
	wantWorking(t, ops)
	if !consume(t, s, "before-cut", "auth0|alice") {
		t.Error("an intent put before the cut was lost")
	}
}

// TestRedisStallIsBoundedByTimeouts: a Redis that accepts connections but never
// answers makes operations fail at the client's timeouts (ErrUnavailable), or at the
// caller's deadline when that comes first (its context error), never later.
func TestRedisStallIsBoundedByTimeouts(t *testing.T) {
	be := newBackend(t)
	proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, be.url))
	s := be.replicaAt(t, testkit.RedisURLVia(t, be.url, proxy.Addr()))
	ops := storeOps(s)
	wantWorking(t, ops)

	proxy.Stall()
	// A deadline longer than the client's timeouts (as a request's 15s is).
	const long = 10 * time.Second
	errs, took := runOps(ops, long)
	var slowest time.Duration
	for i, err := range errs {
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("%s with Redis stalled: %v, want ErrUnavailable", ops[i].name, err)
		}
		slowest = max(slowest, took[i])
	}
	// One try and one retry, each bounded by the I/O timeout, plus a dial.
	if bound := 2*redisstore.DefaultIOTimeout + redisstore.DefaultDialTimeout; slowest > bound {
		t.Errorf("with Redis stalled the slowest operation took %v, over the client's timeouts (%v)", slowest, bound)
	}
	t.Logf("Redis stalled: every operation answered ErrUnavailable within %v", slowest)

	// A deadline shorter than the client's timeouts ends the wait.
	const short = 300 * time.Millisecond
	errs, took = runOps(ops, short)
	slowest = 0
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with Redis stalled and a %v deadline: %v, want context.DeadlineExceeded", ops[i].name, short, err)
		}
		slowest = max(slowest, took[i])
	}
	if slowest > short+500*time.Millisecond {
		t.Errorf("with a %v deadline the slowest operation took %v", short, slowest)
	}
	t.Logf("Redis stalled, %v deadline: every operation returned within %v", short, slowest)

	proxy.Restore()
	t.Logf("Redis back: the store answered again after %v", waitResumed(t, s))
	wantWorking(t, ops)
}

// The store is what identity needs, including the shared stale-read guard.
var (
	_ identity.Store       = (*redisstore.Store)(nil)
	_ identity.SharedCache = (*redisstore.Store)(nil)
)
