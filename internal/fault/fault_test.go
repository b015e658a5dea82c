package fault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
)

// adapterError stands for an adapter's own error type that reports a kind.
type adapterError struct{ status int }

func (e *adapterError) Error() string { return fmt.Sprintf("upstream answered %d", e.status) }

func (e *adapterError) Fault() fault.Failure {
	if e.status == 429 {
		return fault.Failure{Kind: fault.RateLimited, RetryAfter: 3 * time.Second}
	}
	return fault.Failure{Kind: fault.Unavailable}
}

func TestFailureOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want fault.Failure
	}{
		{"adapter error", &adapterError{status: 503}, fault.Failure{Kind: fault.Unavailable}},
		{"wrapped adapter error", fmt.Errorf("get user: %w", &adapterError{status: 429}), fault.Failure{Kind: fault.RateLimited, RetryAfter: 3 * time.Second}},
		{"a Failure itself", fault.Failure{Kind: fault.Invalid, Message: "bad"}, fault.Failure{Kind: fault.Invalid, Message: "bad"}},
		{"a wrapped Failure", fmt.Errorf("verify: %w", fault.Failure{Kind: fault.NotFound}), fault.Failure{Kind: fault.NotFound}},
		{"the adapter's word wins over its cause", fmt.Errorf("%w: %w", &adapterError{status: 503}, context.DeadlineExceeded), fault.Failure{Kind: fault.Unavailable}},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), fault.Failure{Kind: fault.Timeout}},
		{"cancellation", fmt.Errorf("call: %w", context.Canceled), fault.Failure{Kind: fault.Canceled}},
		{"anything else", errors.New("boom"), fault.Failure{Kind: fault.Unknown}},
		{"nil", nil, fault.Failure{Kind: fault.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fault.FailureOf(tt.err)); diff != "" {
				t.Errorf("FailureOf(%v) (-want +got):\n%s", tt.err, diff)
			}
		})
	}
}

func TestFailureError(t *testing.T) {
	if got := (fault.Failure{Kind: fault.RateLimited}).Error(); got != "rate limited" {
		t.Errorf("Error() = %q, want the kind", got)
	}
	if got := (fault.Failure{Kind: fault.Invalid, Message: "JWT must have an aud"}).Error(); got != "JWT must have an aud" {
		t.Errorf("Error() = %q, want the message", got)
	}
}

func TestFrom(t *testing.T) {
	known := fault.Wrap(errors.New("hidden"), fault.NonceMismatch, "public")
	if got := fault.From(fmt.Errorf("link: %w", known)); got != known {
		t.Errorf("From(wrapped *Error) = %v, want that *Error", got)
	}
	boom := errors.New("boom")
	got := fault.From(boom)
	if got.Code != fault.Internal || !errors.Is(got, boom) {
		t.Errorf("From(plain error) = %v, want internal_error keeping the cause", got)
	}
	if got := fault.From(fmt.Errorf("read: %w", context.Canceled)); got.Code != fault.ClientClosed {
		t.Errorf("From(cancellation) = %v, want client_closed", got)
	}
}

func TestFromStore(t *testing.T) {
	chosen := fault.New(fault.AccountBusy, "busy")
	if got := fault.FromStore(chosen); got != chosen {
		t.Errorf("FromStore(*Error) = %v, want it unchanged", got)
	}
	refused := errors.New("dial tcp 127.0.0.1:6379: connection refused")
	got := fault.FromStore(fmt.Errorf("put intent: %w", refused))
	if got.Code != fault.StoreUnavailable || got.RetryAfter != fault.StoreRetryAfter || !errors.Is(got, refused) {
		t.Errorf("FromStore(connection refused) = %+v, want store_unavailable with RetryAfter %s keeping the cause", got, fault.StoreRetryAfter)
	}
	if got := fault.FromStore(context.Canceled); got.Code != fault.ClientClosed {
		t.Errorf("FromStore(cancellation) = %v, want client_closed", got)
	}
}
