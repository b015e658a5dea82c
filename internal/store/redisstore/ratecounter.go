package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRateCounterTimeout bounds each call of a RateCounter. Its callers hold a
// lock of the rate limiter while they count, so a stalled Redis must cost little:
// the limiter then counts in its own process for a while (package ratelimit).
const DefaultRateCounterTimeout = 250 * time.Millisecond

// RateCounter counts requests per key and window in Redis for a sliding-window rate
// limiter (it implements go-chi/httprate's LimitCounter), so that every replica on
// one Redis counts against the same limits. A window's count lives at
// "{prefix}{key}:{window start, unix ms}" and expires once it can no longer be the
// previous window.
type RateCounter struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration
	ttl     time.Duration // set by Config
}

// NewRateCounter returns a counter on rdb (which the caller keeps and closes) whose
// keys start with prefix. Use one counter per limit.
func NewRateCounter(rdb *redis.Client, prefix string) *RateCounter {
	return &RateCounter{rdb: rdb, prefix: prefix, timeout: DefaultRateCounterTimeout, ttl: 2*time.Minute + gcMargin}
}

// Config is told the limit's window once, before any count.
func (c *RateCounter) Config(_ int, window time.Duration) {
	c.ttl = 2*window + gcMargin
}

func (c *RateCounter) key(key string, window time.Time) string {
	return c.prefix + key + ":" + strconv.FormatInt(window.UnixMilli(), 10)
}

// Increment adds one request to key's count in window.
func (c *RateCounter) Increment(key string, window time.Time) error {
	return c.IncrementBy(key, window, 1)
}

// IncrementBy adds n requests to key's count in window.
func (c *RateCounter) IncrementBy(key string, window time.Time, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	k := c.key(key, window)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, k, int64(n))
		p.PExpire(ctx, k, c.ttl)
		return nil
	})
	if err != nil {
		return unavailable(ctx, "count request", err)
	}
	return nil
}

// Get returns key's counts in the current and the previous window.
func (c *RateCounter) Get(key string, current, previous time.Time) (int, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	vals, err := c.rdb.MGet(ctx, c.key(key, current), c.key(key, previous)).Result()
	if err != nil {
		return 0, 0, unavailable(ctx, "read request count", err)
	}
	var counts [2]int
	for i, v := range vals {
		if v == nil {
			continue
		}
		s, _ := v.(string)
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, 0, fmt.Errorf("redisstore: request count %v is not a number", v)
		}
		counts[i] = n
	}
	return counts[0], counts[1], nil
}
