package testkit

import (
	"context"
	"crypto/rand"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the Redis server tests use when REDIS_URL is unset: the one the
// development machine and CI run.
const DefaultRedisURL = "redis://127.0.0.1:6379"

// RedisURL returns the URL of the real Redis server for a test that needs one:
// REDIS_URL, else DefaultRedisURL. When that server does not answer, the test is
// skipped, or fails under CI=true (MissingPrerequisite: CI provides Redis, so a
// missing one is a broken CI, not a reason to pass). Share the server with other
// tests through RedisPrefix.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = DefaultRedisURL
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	// One quick try: a test that skips should not wait out go-redis's retries.
	opts.MaxRetries, opts.DialerRetries = -1, 1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		MissingPrerequisite(t, "this test needs Redis at %s (set REDIS_URL): %v", opts.Addr, err)
	}
	return u
}

// RedisPrefix returns a key prefix that no other test uses ("test:{random}:"), and
// deletes every key under it when t ends.
func RedisPrefix(t testing.TB, redisURL string) string {
	t.Helper()
	prefix := "test:" + rand.Text() + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			t.Error(err)
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the test's Redis keys: %v", err)
		}
	})
	return prefix
}

// RedisURLVia returns redisURL with its host:port replaced by addr (a TCPProxy in
// front of the server).
func RedisURLVia(t testing.TB, redisURL, addr string) string {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// RedisAddr is the host:port of redisURL.
func RedisAddr(t testing.TB, redisURL string) string {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil || strings.HasPrefix(opts.Addr, "/") {
		t.Fatalf("Redis at %q is not a TCP address", opts.Addr)
	}
	return opts.Addr
}
