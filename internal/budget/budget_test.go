package budget_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/budget"
	"github.com/linkbff/linkbff/internal/testkit"
)

type taker interface {
	Take(ctx context.Context) (bool, time.Duration, error)
}

func TestInterval(t *testing.T) {
	if got, want := budget.Interval(2), 550*time.Millisecond; got != want {
		t.Errorf("Interval(2) = %v, want %v (1/2 s and 10%% headroom)", got, want)
	}
	if _, err := budget.NewLocal(0); err == nil {
		t.Error("NewLocal(0) accepted")
	}
}

// The local budget grants one slot at once, then one per interval: a caller that can
// wait gets its slot exactly then, one that cannot is told how long it would be and
// spends nothing.
func TestLocalBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := budget.NewLocal(2)
		if err != nil {
			t.Fatal(err)
		}
		interval := budget.Interval(2)
		if ok, _, err := b.Take(t.Context()); !ok || err != nil {
			t.Fatalf("first Take: %v, %v", ok, err)
		}
		short, cancel := context.WithTimeout(t.Context(), interval/2)
		defer cancel()
		ok, retryAfter, err := b.Take(short)
		if ok || err != nil || retryAfter != interval {
			t.Errorf("Take that cannot wait: %v, %v, %v; want refused after %v", ok, retryAfter, err, interval)
		}
		start := time.Now()
		for i := range 3 {
			if ok, _, err := b.Take(t.Context()); !ok || err != nil {
				t.Fatalf("Take %d: %v, %v", i, ok, err)
			}
			if waited, want := time.Since(start), time.Duration(i+1)*interval; waited != want {
				t.Errorf("slot %d after %v, want %v (the refusal spent nothing)", i, waited, want)
			}
		}
		cancelled, cancel := context.WithCancel(t.Context())
		go func() { time.Sleep(interval / 4); cancel() }()
		if ok, _, err := b.Take(cancelled); ok || !errors.Is(err, context.Canceled) {
			t.Errorf("Take cancelled while waiting: %v, %v", ok, err)
		}
	})
}

func redisBudget(t *testing.T, rdb *redis.Client, key string, rps float64, onError func(error)) *budget.Redis {
	t.Helper()
	b, err := budget.NewRedis(rdb, key, rps, onError)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Two replicas' budgets on one key share it: however many callers, slots come one
// per interval between them, and none is lost to the competition.
func TestRedisBudgetIsShared(t *testing.T) {
	url := testkit.RedisURL(t)
	key := testkit.RedisPrefix(t, url) + "mgmt-budget"
	const rps, perReplica = 20, 6
	replicas := []taker{
		redisBudget(t, redisClient(t, url), key, rps, nil),
		redisBudget(t, redisClient(t, url), key, rps, nil),
	}
	ctx, cancel := context.WithTimeout(t.Context(), testkit.Timeout)
	defer cancel()
	var (
		mu      sync.Mutex
		granted []time.Time
		wg      sync.WaitGroup
	)
	start := time.Now()
	for _, b := range replicas {
		for range perReplica {
			wg.Go(func() {
				ok, _, err := b.Take(ctx)
				if !ok || err != nil {
					t.Errorf("Take: %v, %v", ok, err)
					return
				}
				mu.Lock()
				granted = append(granted, time.Now())
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	n := len(granted)
	if n != 2*perReplica {
		t.Fatalf("%d slots granted, want %d", n, 2*perReplica)
	}
	// Slots come no faster than one per interval (as Redis's clock, which is this
	// machine's, measures them): n slots span at least n-1 intervals.
	if elapsed, least := time.Since(start), time.Duration(n-1)*budget.Interval(rps); elapsed < least {
		t.Errorf("%d slots granted within %v, want at least %v", n, elapsed, least)
	}
}

// A caller that cannot wait for the next shared slot is refused at once with the wait.
func TestRedisBudgetRefusesBeyondTheDeadline(t *testing.T) {
	url := testkit.RedisURL(t)
	key := testkit.RedisPrefix(t, url) + "mgmt-budget"
	a := redisBudget(t, redisClient(t, url), key, 1, nil)
	b := redisBudget(t, redisClient(t, url), key, 1, nil)
	if ok, _, err := a.Take(t.Context()); !ok || err != nil {
		t.Fatalf("first Take: %v, %v", ok, err)
	}
	short, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	ok, retryAfter, err := b.Take(short)
	if ok || err != nil || retryAfter <= 200*time.Millisecond || retryAfter > budget.Interval(1) {
		t.Errorf("Take on the other replica that cannot wait: %v, %v, %v; want refused with a wait in (200ms, %v]", ok, retryAfter, err, budget.Interval(1))
	}
}

// While Redis does not answer, each replica paces itself alone at the same rate, and
// says so once.
func TestRedisBudgetFallsBackWhenRedisIsDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	var errs []error
	b := redisBudget(t, rdb, "budget", 2, func(err error) { errs = append(errs, err) })
	if ok, _, err := b.Take(t.Context()); !ok || err != nil {
		t.Fatalf("Take without Redis: %v, %v; want a slot from the fallback", ok, err)
	}
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if ok, retryAfter, _ := b.Take(short); ok || retryAfter <= 0 {
		t.Errorf("second Take without Redis: %v, %v; want the fallback's pace", ok, retryAfter)
	}
	if len(errs) != 1 || errs[0] == nil {
		t.Errorf("onError heard %v, want one error", errs)
	}
}
