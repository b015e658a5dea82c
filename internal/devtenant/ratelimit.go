package devtenant

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// SetRateLimit turns on a token bucket for the Management API: perSecond requests per
// second with bursts of burst, answered with 429 like Auth0 when empty. perSecond <= 0
// turns it off (the default).
func (t *Tenant) SetRateLimit(perSecond float64, burst int) {
	var b *bucket
	if perSecond > 0 {
		size := float64(max(burst, 1))
		b = &bucket{rate: perSecond, burst: size, tokens: size, last: time.Now()}
	}
	t.knobs.with(func(k *knobs) { k.bucket = b })
}

// admitManagementRequest applies the Management API's rate limit to a request and
// sets the x-ratelimit-* headers every Management API answer carries. Over the limit
// it has answered 429 as Auth0 does, and returns false.
func (t *Tenant) admitManagementRequest(w http.ResponseWriter) bool {
	if t.knobs.rateLimit(w.Header()) {
		return true
	}
	writeMgmtError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
	return false
}

// rateLimit takes a token and sets Auth0's x-ratelimit-* headers; ok is false when
// the request must be answered with 429.
func (k *knobs) rateLimit(h http.Header) (ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if k.bucket == nil {
		// Off: report a generous limit that never runs out, as a paid tenant would.
		h.Set("x-ratelimit-limit", "1000")
		h.Set("x-ratelimit-remaining", "1000")
		h.Set("x-ratelimit-reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		return true
	}
	ok, remaining, reset := k.bucket.take(now)
	h.Set("x-ratelimit-limit", strconv.Itoa(int(k.bucket.burst)))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(reset, 10))
	return ok
}

// bucket is a token bucket: burst tokens at most, refilled at rate per second.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// take removes one token if there is one. reset is the unix second at which the bucket
// is full again (or, when empty, when the next token arrives).
func (b *bucket) take(now time.Time) (ok bool, remaining int, reset int64) {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		wait := (1 - b.tokens) / b.rate
		return false, 0, int64(math.Ceil(float64(now.UnixNano())/1e9 + wait))
	}
	b.tokens--
	full := (b.burst - b.tokens) / b.rate
	return true, int(b.tokens), int64(math.Ceil(float64(now.UnixNano())/1e9 + full))
}
