package mgmt

import (
	"context"
	"sync/atomic"

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
