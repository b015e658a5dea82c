package devtenant

import (
	"maps"
	"net"
	"net/http"
	"slices"
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

// knobs is the state of the test knobs: request counters, injected faults and the
// Management API's rate limit. It has its own lock, so that counting a request never
// waits for the tenant's data.
type knobs struct {
	mu     sync.Mutex
	counts map[string]int
	faults map[string]*Fault
	bucket *bucket // nil: rate limit off
	// mgmtTimes are the arrival times of the latest Management API requests (at
	// most maxMgmtTimes), for tests that check a client's request rate.
	mgmtTimes []time.Time
}

// maxMgmtTimes bounds the recorded arrival times, so a long-running tenant does not
// grow without end.
const maxMgmtTimes = 10000

func newKnobs() *knobs {
	return &knobs{counts: map[string]int{}, faults: map[string]*Fault{}}
}

// with runs f with k.mu held.
func (k *knobs) with(f func(k *knobs)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(k)
}

// Requests returns how many requests each endpoint (route pattern) has received.
func (t *Tenant) Requests() (counts map[string]int) {
	t.knobs.with(func(k *knobs) { counts = maps.Clone(k.counts) })
	return counts
}

// RequestCount returns how many requests one endpoint has received.
func (t *Tenant) RequestCount(endpoint string) (n int) {
	t.knobs.with(func(k *knobs) { n = k.counts[endpoint] })
	return n
}

// ManagementRequests is the number of requests to the Management API (/api/v2/).
func (t *Tenant) ManagementRequests() (n int) {
	t.knobs.with(func(k *knobs) {
		for endpoint, count := range k.counts {
			if _, path, _ := strings.Cut(endpoint, " "); isManagementPath(path) {
				n += count
			}
		}
	})
	return n
}

// ManagementRequestTimes returns when each Management API request arrived (the
// latest 10,000 since ResetRequests), oldest first, by the tenant's clock: what a
// test needs to count requests per second as Auth0 would.
func (t *Tenant) ManagementRequestTimes() (times []time.Time) {
	t.knobs.with(func(k *knobs) { times = slices.Clone(k.mgmtTimes) })
	return times
}

// ResetRequests sets all request counters to zero and forgets the arrival times.
func (t *Tenant) ResetRequests() {
	t.knobs.with(func(k *knobs) {
		clear(k.counts)
		k.mgmtTimes = nil
	})
}

// InjectFault sets the fault for one endpoint, replacing any previous one.
func (t *Tenant) InjectFault(endpoint string, f Fault) {
	t.knobs.with(func(k *knobs) { k.faults[endpoint] = &f })
}

// ClearFaults removes every injected fault.
func (t *Tenant) ClearFaults() { t.knobs.with(func(k *knobs) { clear(k.faults) }) }

// arrive counts a request (recording when a Management API request arrived) and
// returns the fault to apply, if any.
func (k *knobs) arrive(endpoint string, mgmt bool) *Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.counts[endpoint]++
	if mgmt {
		if len(k.mgmtTimes) >= maxMgmtTimes {
			k.mgmtTimes = slices.Delete(k.mgmtTimes, 0, len(k.mgmtTimes)-maxMgmtTimes+1)
		}
		k.mgmtTimes = append(k.mgmtTimes, time.Now())
	}
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

// instrument puts request counting, fault injection and, for the Management API, rate
// limiting in front of h, the handler of the route pattern.
func (t *Tenant) instrument(pattern string, h http.HandlerFunc) http.HandlerFunc {
	_, path, _ := strings.Cut(pattern, " ")
	mgmt := isManagementPath(path)
	return func(w http.ResponseWriter, r *http.Request) {
		t.log.Debug("devtenant request", "endpoint", pattern, "path", r.URL.Path)
		f := t.knobs.arrive(pattern, mgmt)
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
		if mgmt && !t.admitManagementRequest(w) {
			return
		}
		if f != nil && f.Status != 0 {
			t.writeFault(w, path, f)
			return
		}
		h(w, r)
	}
}

// writeFault answers an injected error status in the shape of the endpoint's API.
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
