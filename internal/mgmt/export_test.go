package mgmt

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// CountTokenSourceCalls makes c count the calls that reach its token source, and
// returns the count. Each such call runs on a goroutine of its own (see token), so
// it also counts those goroutines. Call it before c is used.
func CountTokenSourceCalls(c *Client) *atomic.Int32 {
	n := new(atomic.Int32)
	c.tokens = countingTokenSource{c.tokens, n}
	return n
}

type countingTokenSource struct {
	tokenSource
	n *atomic.Int32
}

func (s countingTokenSource) Token(ctx context.Context) (*oauth2.Token, error) {
	s.n.Add(1)
	return s.tokenSource.Token(ctx)
}

// MarkedRequest is a request marked, as the client marks those it sends, as one to ep.
func MarkedRequest(t testing.TB, ep Endpoint) *http.Request {
	r, err := http.NewRequestWithContext(withEndpoint(context.Background(), ep), http.MethodGet, "https://t.example/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
