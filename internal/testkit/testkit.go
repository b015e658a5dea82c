// Package testkit holds what several packages' tests share: a clock that moves only
// when told to, an RSA key and a JWT signer for crafting tokens a verifier must
// accept or refuse, bounded waits (Recv, Parallel, Context, HTTPClient, Do) so that
// no test can block until go test's global timeout, the test Redis, a TCP proxy that
// fails on command, a Buffer that may be written while it is read, and headless
// Chromium for browser tests (Chromium, with MissingPrerequisite for what a test
// needs besides Go). Only tests import it.
package testkit

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Clock is a clock that only moves when told to. Its Now fits every Now option.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Unix(1_750_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// RSAKey returns a new 2048-bit RSA key: a signer the verifier under test does not
// know.
func RSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// SignJWT returns a compact JWS of claims signed with key under alg, with kid (if
// not empty) and typ JWT in the header.
func SignJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WithClaims returns a copy of base with over applied; a nil value in over deletes
// the claim. It makes the one-claim-wrong variants of a valid token.
func WithClaims(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Buffer is a bytes.Buffer that one goroutine (a logger's timer, an exporter's
// batch processor) may write while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
