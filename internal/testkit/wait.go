package testkit

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Timeout bounds every wait of a test that is not itself about time: long enough for
// a loaded, shared machine, short enough that a hang fails its own test (with a
// message saying what it waited for) long before go test's global timeout.
const Timeout = 10 * time.Second

// Context returns a context that ends Timeout from now or when the test ends, for
// calls that must not outlive the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Recv returns the next value from ch, and fails the test if none comes within
// Timeout. what names the awaited event in the failure.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waited %v for %s", Timeout, what)
		var zero T
		return zero
	}
}

// Parallel calls f(0) ... f(n-1) in n goroutines released together, waits for all
// of them (failing the test if they take longer than Timeout) and returns their
// errors by i.
func Parallel(t testing.TB, n int, f func(i int) error) []error {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	Recv(t, done, "every parallel call to return")
	return errs
}

// HTTPClient returns a client whose every request, body included, ends within
// Timeout, so that a server that never answers fails the test instead of hanging
// it. It has its own connection pool, closed when the test ends.
func HTTPClient(t testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: Timeout}
}
