package devtenant

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is an injected misbehaviour of one endpoint (a route pattern such as
// EndpointGetUser). Faults apply to the next Count requests (0: until cleared), in
// this order: Latency, then Reset or Status. A fault with only Latency delays the
// real answer.
type Fault struct {
	// Status answers with this HTTP status and an Auth0-shaped error body instead of
	// the real handler (0: run the real handler).
	Status int `json:"status,omitempty"`
	// Count is how many requests the fault applies to; 0 means every request until
	// ClearFaults.
	Count int `json:"count,omitempty"`
	// Latency delays the answer (cut short if the client goes away).
	Latency Duration `json:"latency,omitempty"`
	// Reset drops the TCP connection without an answer (RST).
	Reset bool `json:"reset,omitempty"`
	// RetryAfter, in seconds, is sent as Retry-After with a 429 and moves
	// x-ratelimit-reset that far ahead (default 1).
	RetryAfter int `json:"retry_after,omitempty"`
}

// Duration is a time.Duration that reads and writes as a Go duration string ("250ms").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

type knobs struct {
	mu     sync.Mutex
	counts map[string]int
	faults map[string]*Fault
	bucket *bucket // nil: rate limit off
}

func newKnobs() *knobs {
	return &knobs{counts: map[string]int{}, faults: map[string]*Fault{}}
}

// Requests returns how many requests each endpoint (route pattern) has received.
func (t *Tenant) Requests() map[string]int {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	out := make(map[string]int, len(t.knobs.counts))
	for k, v := range t.knobs.counts {
		out[k] = v
	}
	return out
}

// RequestCount returns how many requests one endpoint has received.
func (t *Tenant) RequestCount(endpoint string) int {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	return t.knobs.counts[endpoint]
}

// ManagementRequests is the number of requests to the Management API (/api/v2/).
func (t *Tenant) ManagementRequests() int {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	n := 0
	for k, v := range t.knobs.counts {
		if _, path, _ := strings.Cut(k, " "); strings.HasPrefix(path, "/api/v2/") {
			n += v
		}
	}
	return n
}

// ResetRequests sets all request counters to zero.
func (t *Tenant) ResetRequests() {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	clear(t.knobs.counts)
}

// InjectFault sets the fault for one endpoint, replacing any previous one.
func (t *Tenant) InjectFault(endpoint string, f Fault) {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	t.knobs.faults[endpoint] = &f
}

// ClearFaults removes every injected fault.
func (t *Tenant) ClearFaults() {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	clear(t.knobs.faults)
}

// SetRateLimit turns on a token bucket for the Management API: perSecond requests per
// second with bursts of burst, answered with 429 like Auth0 when empty. perSecond <= 0
// turns it off (the default).
func (t *Tenant) SetRateLimit(perSecond float64, burst int) {
	t.knobs.mu.Lock()
	defer t.knobs.mu.Unlock()
	if perSecond <= 0 {
		t.knobs.bucket = nil
		return
	}
	if burst < 1 {
		burst = 1
	}
	t.knobs.bucket = &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// arrive counts a request and returns the fault to apply, if any.
func (k *knobs) arrive(endpoint string) *Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.counts[endpoint]++
	f, ok := k.faults[endpoint]
	if !ok {
		return nil
	}
	cp := *f
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			delete(k.faults, endpoint)
		}
	}
	return &cp
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

// handle registers h for pattern with request counting, fault injection and, for the
// Management API, rate limiting in front of it.
func (t *Tenant) handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	_, path, _ := strings.Cut(pattern, " ")
	mgmt := strings.HasPrefix(path, "/api/v2/")
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		t.log.Debug("devtenant request", "endpoint", pattern, "path", r.URL.Path)
		f := t.knobs.arrive(pattern)
		if f != nil && f.Latency > 0 {
			timer := time.NewTimer(time.Duration(f.Latency))
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
		if f != nil && f.Reset {
			resetConnection(w)
			return
		}
		if mgmt {
			if !t.knobs.rateLimit(w.Header()) {
				writeMgmtError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
				return
			}
		}
		if f != nil && f.Status != 0 {
			t.writeFault(w, path, f)
			return
		}
		h(w, r)
	})
}

func (t *Tenant) writeFault(w http.ResponseWriter, path string, f *Fault) {
	if f.Status == http.StatusTooManyRequests {
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		w.Header().Set("x-ratelimit-remaining", "0")
		w.Header().Set("x-ratelimit-reset", strconv.FormatInt(time.Now().Add(time.Duration(ra)*time.Second).Unix(), 10))
	}
	msg := http.StatusText(f.Status)
	if f.Status == http.StatusTooManyRequests {
		msg = "Global limit has been reached"
	}
	if path == "/oauth/token" {
		code := "server_error"
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = "too_many_requests"
		case f.Status < 500:
			code = "invalid_request"
		}
		writeOAuthError(w, f.Status, code, "injected fault: "+msg)
		return
	}
	writeMgmtError(w, f.Status, msg, "")
}

// resetConnection closes the client's TCP connection with an RST and no answer.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
