package testkit

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// requestTimeout bounds each request Do sends, body included: a server that never
// answers fails the test instead of hanging it until go test's global timeout.
const requestTimeout = 30 * time.Second

// Do sends req with c (http.DefaultClient when nil), answer and body within 30
// seconds whatever c's own timeout, and returns the response with its whole body,
// already closed. A transport error or timeout fails the test.
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
	defer cancel()
	res, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return res, body
}

// Get is Do for a GET of url.
func Get(t testing.TB, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Do(t, c, req)
}
