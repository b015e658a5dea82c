package mgmt_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/mgmt"
)

// fakeBudget grants or refuses every slot, and counts what it was asked.
type fakeBudget struct {
	mu         sync.Mutex
	takes      int
	refuse     bool
	retryAfter time.Duration
}

func (b *fakeBudget) Take(context.Context) (bool, time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.takes++
	if b.refuse {
		return false, b.retryAfter, nil
	}
	return true, 0, nil
}

func withBudget(b mgmt.Budget) func(*mgmt.Config) { return func(c *mgmt.Config) { c.Budget = b } }

// Every Management API request, a 429's retry included, takes a slot of the budget
// first; the token request does not.
func TestBudgetPacesEveryRequest(t *testing.T) {
	b := &fakeBudget{}
	f := newFake(t, sequence(tooMany("Retry-After", "0"), writeRaw(http.StatusOK, userJSON)))
	c := newClient(t, f, withBudget(b))
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if b.takes != 2 || f.apiRequests.Load() != 2 || f.tokenRequests.Load() != 1 {
		t.Errorf("%d slots taken for %d API requests (and %d token requests), want 2 for 2", b.takes, f.apiRequests.Load(), f.tokenRequests.Load())
	}
}

// A slot that would come after the caller's deadline is a rate-limit failure with
// the wait, and nothing is sent.
func TestBudgetRefusalIsRateLimited(t *testing.T) {
	b := &fakeBudget{refuse: true, retryAfter: 3 * time.Second}
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f, withBudget(b))
	_, err := c.GetUser(t.Context(), "auth0|a")
	got := fault.FailureOf(err)
	if got.Kind != fault.RateLimited || got.RetryAfter != 3*time.Second {
		t.Errorf("GetUser refused by the budget: %v (%+v), want RateLimited after 3s", err, got)
	}
	if n := f.apiRequests.Load(); n != 0 {
		t.Errorf("%d API requests sent without a slot", n)
	}
}

// Auth0 saying no request is left until its reset holds the next one until then:
// refused at once when the caller cannot wait that long, sent no earlier than the
// reset when it can.
func TestTenantRateLimitHeadersHoldTheNextRequest(t *testing.T) {
	var (
		mu      sync.Mutex
		arrived []time.Time
	)
	reset := time.Now().Add(500 * time.Millisecond).Truncate(time.Second).Add(time.Second) // a whole second, 0.5 to 1.5s away
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", unix(reset))
		writeRaw(http.StatusOK, userJSON)(w, r)
	})
	c := newClient(t, f)
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("first GetUser: %v", err)
	}

	short, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(short, "auth0|a")
	if got := fault.FailureOf(err); got.Kind != fault.RateLimited || got.RetryAfter <= 200*time.Millisecond {
		t.Errorf("GetUser that cannot wait for the reset: %v (%+v), want RateLimited with the wait", err, got)
	}
	if n := f.apiRequests.Load(); n != 1 {
		t.Fatalf("%d API requests, want 1: the refused call sent nothing", n)
	}

	long, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.GetUser(long, "auth0|a"); err != nil {
		t.Fatalf("GetUser that can wait: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrived) != 2 || arrived[1].Before(reset) {
		t.Errorf("second request arrived at %v, want no earlier than the reset %v", arrived[len(arrived)-1], reset)
	}
}

// The call sent again after a 401 (with a renewed token) is a Management API request
// like any other: it takes a slot of its own.
func TestBudgetPacesTheCallAfterATokenRenewal(t *testing.T) {
	b := &fakeBudget{}
	f := newFake(t, sequence(
		func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusUnauthorized, auth0Error(401, "Unauthorized", "Invalid token", ""))
		},
		writeRaw(http.StatusOK, userJSON)))
	c := newClient(t, f, withBudget(b))
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser after a refused token: %v", err)
	}
	if b.takes != 2 || f.apiRequests.Load() != 2 || f.tokenRequests.Load() != 2 {
		t.Errorf("%d slots taken for %d API requests (and %d token requests), want 2 for 2 (and 2)", b.takes, f.apiRequests.Load(), f.tokenRequests.Load())
	}
}
