package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// TestRateCounterIsShared: two counters (two replicas, each with its own client) on
// one Redis and prefix count the same requests, per key and window, and each window's
// count expires once it can no longer be the previous window.
func TestRateCounterIsShared(t *testing.T) {
	url := testkit.RedisURL(t)
	prefix := testkit.RedisPrefix(t, url)
	counter := func() *redisstore.RateCounter {
		c := redisstore.NewRateCounter(newClient(t, url), prefix+"rate:")
		c.Config(10, time.Minute)
		return c
	}
	a, b := counter(), counter()
	prev := time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)
	cur := prev.Add(time.Minute)

	for _, step := range []struct {
		c   *redisstore.RateCounter
		key string
		at  time.Time
		n   int
	}{{a, "user:alice", prev, 3}, {b, "user:alice", prev, 1}, {b, "user:alice", cur, 2}, {a, "user:bob", cur, 5}} {
		if err := step.c.IncrementBy(step.key, step.at, step.n); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Increment("user:alice", cur); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*redisstore.RateCounter{a, b} {
		if cn, pn, err := c.Get("user:alice", cur, prev); err != nil || cn != 3 || pn != 4 {
			t.Errorf("alice: current %d, previous %d, err %v; want 3, 4", cn, pn, err)
		}
		if cn, pn, err := c.Get("user:bob", cur, prev); err != nil || cn != 5 || pn != 0 {
			t.Errorf("bob: current %d, previous %d, err %v; want 5, 0", cn, pn, err)
		}
		if cn, pn, err := c.Get("user:carol", cur, prev); err != nil || cn != 0 || pn != 0 {
			t.Errorf("carol: current %d, previous %d, err %v; want 0, 0", cn, pn, err)
		}
	}

	rdb := newClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	keys, err := rdb.Keys(ctx, prefix+"rate:*").Result()
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys %v, err %v; want 3 (alice's two windows, bob's one)", keys, err)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl <= time.Minute || ttl > 3*time.Minute+time.Second {
			t.Errorf("%s: TTL %v, err %v; want past the next window, and bounded", k, ttl, err)
		}
	}
}

// TestRateCounterFailsFastWithoutRedis: a counter whose Redis does not answer
// reports an error within its timeout, so the limiter can fall back at once.
func TestRateCounterFailsFastWithoutRedis(t *testing.T) {
	url := testkit.RedisURL(t)
	proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, url))
	c := redisstore.NewRateCounter(newClient(t, testkit.RedisURLVia(t, url, proxy.Addr())), testkit.RedisPrefix(t, url)+"rate:")
	c.Config(10, time.Minute)
	proxy.Stall()
	start := time.Now()
	if _, _, err := c.Get("user:alice", time.Now(), time.Now().Add(-time.Minute)); err == nil {
		t.Fatal("Get succeeded through a stalled Redis")
	}
	if err := c.Increment("user:alice", time.Now()); err == nil {
		t.Fatal("Increment succeeded through a stalled Redis")
	}
	if took := time.Since(start); took > 8*redisstore.DefaultRateCounterTimeout {
		t.Errorf("two calls took %v through a stalled Redis; want about 2×%v (far below the client's own 1s timeouts)", took, redisstore.DefaultRateCounterTimeout)
	}
}
