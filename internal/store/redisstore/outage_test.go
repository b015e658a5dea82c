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
	v := identity.View{UserID: "auth0|alice", Identities: []identity.Identity{{Provider: "auth0", UserID: "alice", Primary: true}}}
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
func runOps(t *testing.T, ops []storeOp, timeout time.Duration) (errs []error, took []time.Duration) {
	t.Helper()
	took = make([]time.Duration, len(ops))
	errs = testkit.Parallel(t, len(ops), func(i int) error {
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
	errs, _ := runOps(t, ops, 5*time.Second)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", ops[i].name, err)
		}
	}
}

// wantFailing runs every op under a context of the given timeout, checks that each
// fails with an error that is want, and returns the slowest one's time. when says
// what the ops ran under, for the failures and the log. (An ErrUnavailable is
// always an answer before the deadline: past it, the error is the context's.)
func wantFailing(t *testing.T, ops []storeOp, timeout time.Duration, want error, when string) time.Duration {
	t.Helper()
	errs, took := runOps(t, ops, timeout)
	var slowest time.Duration
	for i, err := range errs {
		if !errors.Is(err, want) {
			t.Errorf("%s with %s: %v, want %v", ops[i].name, when, err, want)
		}
		slowest = max(slowest, took[i])
	}
	t.Logf("%s: every operation answered %v within %v", when, want, slowest)
	return slowest
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
	be := newBackend(t, testkit.NewClock())
	proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, be.url))
	s := be.replicaAt(t, testkit.RedisURLVia(t, be.url, proxy.Addr()))
	ops := storeOps(s)
	wantWorking(t, ops) // the pool now holds live connections, which the cut drops
	if err := s.PutIntent(testkit.Context(t), "before-cut", "auth0|alice", ttl); err != nil {
		t.Fatal(err)
	}

	proxy.Cut()
	const deadline = 5 * time.Second
	wantFailing(t, ops, deadline, redisstore.ErrUnavailable, "Redis cut")
	// Again, now that the client knows the server is gone.
	wantFailing(t, ops, deadline, redisstore.ErrUnavailable, "Redis still cut")

	proxy.Restore()
	t.Logf("Redis back: the store answered again after %v", waitResumed(t, s))
	wantWorking(t, ops)
	if ok, err := s.ConsumeIntent(testkit.Context(t), "before-cut", "auth0|alice"); !ok || err != nil {
		t.Errorf("the intent put before the cut: ConsumeIntent = %v, %v; want true, nil", ok, err)
	}
}

// TestRedisStallIsBoundedByTimeouts: a Redis that accepts connections but never
// answers makes operations fail at the client's timeouts (ErrUnavailable), or at the
// caller's deadline when that comes first (its context error), never later.
func TestRedisStallIsBoundedByTimeouts(t *testing.T) {
	be := newBackend(t, testkit.NewClock())
	proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, be.url))
	s := be.replicaAt(t, testkit.RedisURLVia(t, be.url, proxy.Addr()))
	ops := storeOps(s)
	wantWorking(t, ops)

	proxy.Stall()
	// A deadline longer than the client's timeouts (as a request's 15s is): one try
	// and one retry, each bounded by the I/O timeout, plus a dial.
	slowest := wantFailing(t, ops, 10*time.Second, redisstore.ErrUnavailable, "Redis stalled")
	if bound := 2*redisstore.DefaultIOTimeout + redisstore.DefaultDialTimeout; slowest > bound {
		t.Errorf("with Redis stalled the slowest operation took %v, over the client's timeouts (%v)", slowest, bound)
	}

	// A deadline shorter than the client's timeouts ends the wait.
	const short = 300 * time.Millisecond
	if slowest := wantFailing(t, ops, short, context.DeadlineExceeded, "Redis stalled and a short deadline"); slowest > short+500*time.Millisecond {
		t.Errorf("with a %v deadline the slowest operation took %v", short, slowest)
	}

	proxy.Restore()
	t.Logf("Redis back: the store answered again after %v", waitResumed(t, s))
	wantWorking(t, ops)
}
