package main

// Benchmarks of what "fast" means for linkbff. The hot path is GET /me/identities
// with a valid token and a warm cache: it should cost little more than the HTTP
// server itself. Upstream economy: one Management API token per lifetime, at most one
// user read per user per cache TTL, one upstream read for any number of concurrent
// misses of one user. Results and how to read them: BENCHMARKS.md; run them with
// `make bench`.
//
// Timings here are only ever compared within one run (ratios against a bare handler
// measured interleaved with linkbff in the same process); the upstream figures are
// counted facts reported as metrics. Nothing is asserted: machines are shared and noisy.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

// benchUser is the caller of every benchmark request.
const benchUser = "auth0|alice"

// benchHandler builds linkbff's handler as run does, logging to io.Discard.
func benchHandler(b testing.TB, getenv func(string) string) http.Handler {
	b.Helper()
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		b.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1" // run derives it from the listener; there is none here
	}
	svc, err := assemble(cfg, newLoggers(cfg, io.Discard), nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return svc.handler
}

// accessTokens mints n distinct access tokens of userID for linkbff's API (they differ
// by a jti claim).
func accessTokens(b testing.TB, tenant *devtenant.Tenant, userID string, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		tok, err := tenant.Mint(devtenant.MintRequest{
			UserID: userID, ClientID: testClientID, Audience: testAudience, Scope: testScope,
			AccessTokenClaims: map[string]any{"jti": fmt.Sprintf("bench-%d", i)},
		})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = tok.AccessToken
	}
	return out
}

func listRequest(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/me/identities", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// serveList sends GET /me/identities through h in-process and returns the body; any
// status but 200 fails the benchmark or test.
func serveList(b testing.TB, h http.Handler, r *http.Request) []byte {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("GET /me/identities: %d %s", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// getList sends GET /me/identities over c and drains the body.
func getList(b *testing.B, c *http.Client, url, token string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
}

// bareHandler is "the HTTP server itself": it writes body as application/json and
// does nothing else.
func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// interleavedRatio times rounds pairs of one bare and one linkbff request, alternating
// which goes first, and returns median(linkbff)/median(bare). Interleaving puts both
// under the same load, so the ratio survives a noisy shared machine better than two
// ns/op figures taken seconds apart; medians ignore the odd preempted request.
func interleavedRatio(rounds int, bare, full func(i int)) float64 {
	bareNs := make([]time.Duration, rounds)
	fullNs := make([]time.Duration, rounds)
	timed := func(f func(int), i int) time.Duration {
		start := time.Now()
		f(i)
		return time.Since(start)
	}
	for i := range rounds {
		if i%2 == 0 {
			bareNs[i] = timed(bare, i)
			fullNs[i] = timed(full, i)
		} else {
			fullNs[i] = timed(full, i)
			bareNs[i] = timed(bare, i)
		}
	}
	slices.Sort(bareNs)
	slices.Sort(fullNs)
	return float64(fullNs[rounds/2]) / float64(bareNs[rounds/2])
}

// BenchmarkHotPath measures GET /me/identities with a valid bearer token and a warm
// cache through linkbff's whole handler, and a bare handler that writes the same JSON
// bytes ("the HTTP server itself"). "same-token" reuses one token (a page polling):
// after the first request it is answered from linkbff's token cache.
// "distinct-tokens" sends a token linkbff has not seen on every request (freshly
// minted tokens of the same user), so each one is verified in full: the cost of a
// client's first request with a new token.
//
//   - handler/*: in-process via httptest.NewRecorder: what linkbff adds, isolated.
//   - loopback/*: over 127.0.0.1 through run() with a keep-alive client, so TCP, the
//     net/http server and the client are on both sides of the ratio.
//
// Besides ns/op, each linkbff variant reports x-bare: its time over the bare
// handler's on the same transport, measured interleaved after the timed loop (see
// interleavedRatio). user-reads/op must stay 0 (warm cache).
func BenchmarkHotPath(b *testing.B) {
	tenant := devtenanttest.Start(b, devtenant.Options{})
	// A cache TTL longer than the benchmark, so the cache stays warm throughout.
	// No abuse limits: a benchmark is one user asking as fast as it can.
	getenv := productionEnv(tenant, noLimits, map[string]string{"IDENTITY_CACHE_TTL": "1h"})
	tokens := accessTokens(b, tenant, benchUser, 64)
	same := tokens[0]
	// timed is true while a variant's timed loop runs; see unseenTokens.
	timed := false
	minted := 0
	mint := func(b *testing.B) string {
		minted++
		tok, err := tenant.Mint(devtenant.MintRequest{
			UserID: benchUser, ClientID: testClientID, Audience: testAudience, Scope: testScope,
			AccessTokenClaims: map[string]any{"jti": fmt.Sprintf("unseen-%08d", minted)},
		})
		if err != nil {
			b.Fatal(err)
		}
		return tok.AccessToken
	}
	// unseen hands one handler a token it has not seen on every call: a freshly
	// minted one (a unique jti), or one of those mintAhead minted. Minting is two RSA
	// signatures, so the timer is paused for it; the interleaved pairs, which have no
	// timer to pause, take tokens minted ahead. (Other spellings of one token are no
	// longer a way to get unseen tokens: linkbff refuses every spelling but the
	// canonical one before its token cache.)
	type unseen struct{ ahead []string }
	next := func(u *unseen, b *testing.B) string {
		if len(u.ahead) > 0 {
			tok := u.ahead[0]
			u.ahead = u.ahead[1:]
			return tok
		}
		if timed {
			b.StopTimer()
			defer b.StartTimer()
		}
		return mint(b)
	}
	mintAhead := func(u *unseen) func(b *testing.B, n int) {
		return func(b *testing.B, n int) {
			for range n {
				u.ahead = append(u.ahead, mint(b))
			}
		}
	}

	h := benchHandler(b, getenv)
	body := bytes.Clone(serveList(b, h, listRequest(same))) // warms JWKS, token, cache
	reqs := make([]*http.Request, len(tokens))
	for i, tok := range tokens {
		reqs[i] = listRequest(tok)
		serveList(b, h, reqs[i])
	}
	bare := bareHandler(body)

	// variant runs one sub-benchmark of op; a linkbff variant (bareOp not nil) also
	// reports x-bare over rounds interleaved pairs and the user reads it caused.
	// prepare, when set, runs before the pairs with their number.
	variant := func(name string, op, bareOp func(b *testing.B, i int), rounds int, prepare ...func(b *testing.B, n int)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			tenant.ResetRequests()
			i := 0
			timed = true
			for b.Loop() {
				op(b, i)
				i++
			}
			timed = false
			if bareOp == nil {
				return
			}
			b.ReportMetric(float64(tenant.RequestCount(devtenant.EndpointGetUser))/float64(b.N), "user-reads/op")
			for _, p := range prepare {
				p(b, rounds)
			}
			b.ReportMetric(interleavedRatio(rounds, func(i int) { bareOp(b, i) }, func(i int) { op(b, i) }), "x-bare")
		})
	}

	inProcessBare := func(b *testing.B, _ int) { serveList(b, bare, reqs[0]) }
	variant("handler/bare", inProcessBare, nil, 0)
	variant("handler/same-token", func(b *testing.B, _ int) { serveList(b, h, reqs[0]) }, inProcessBare, 2000)
	inProcessUnseen, unseenReq := &unseen{}, listRequest(same)
	variant("handler/distinct-tokens", func(b *testing.B, _ int) {
		unseenReq.Header.Set("Authorization", "Bearer "+next(inProcessUnseen, b))
		serveList(b, h, unseenReq)
	}, inProcessBare, 500, mintAhead(inProcessUnseen))

	// Over loopback: linkbff via run(), and the bare handler in an http.Server with
	// run's timeouts.
	base := startRun(b, getenv, &syncBuffer{}, io.Discard) + "/me/identities"
	bareSrv := httptest.NewUnstartedServer(bare)
	bareSrv.Config.ReadHeaderTimeout = 5 * time.Second
	bareSrv.Config.IdleTimeout = 2 * time.Minute
	bareSrv.Start()
	b.Cleanup(bareSrv.Close)
	bareURL := bareSrv.URL + "/me/identities"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(client.CloseIdleConnections)
	for _, tok := range tokens { // warm this process's cache too
		getList(b, client, base, tok)
	}

	loopbackBare := func(b *testing.B, _ int) { getList(b, client, bareURL, same) }
	variant("loopback/bare", loopbackBare, nil, 0)
	variant("loopback/same-token", func(b *testing.B, _ int) { getList(b, client, base, same) }, loopbackBare, 1000)
	loopbackUnseen := &unseen{} // run() has its own token cache
	variant("loopback/distinct-tokens", func(b *testing.B, _ int) { getList(b, client, base, next(loopbackUnseen, b)) }, loopbackBare, 500, mintAhead(loopbackUnseen))
}

// upstreamCounts are the tenant's request counters that matter for upstream economy.
type upstreamCounts struct{ userReads, mgmtTokens, jwks int }

func countUpstream(t *devtenant.Tenant) upstreamCounts {
	return upstreamCounts{
		userReads:  t.RequestCount(devtenant.EndpointGetUser),
		mgmtTokens: t.RequestCount(devtenant.EndpointToken),
		jwks:       t.RequestCount(devtenant.EndpointJWKS),
	}
}

func (c upstreamCounts) report(b *testing.B, ops int) {
	n := float64(ops)
	b.ReportMetric(float64(c.userReads)/n, "user-reads/op")
	b.ReportMetric(float64(c.mgmtTokens)/n, "mgmt-tokens/op")
	b.ReportMetric(float64(c.jwks)/n, "jwks-fetches/op")
}

// BenchmarkUpstream counts what linkbff asks of Auth0. One op is one linkbff lifetime:
// a handler freshly built (cold cache, no Management API token, no JWKS) that serves
// a burst of GET /me/identities. The metrics are per op, i.e. per lifetime; the time
// per op is mostly the tenant's and the injected latency, not linkbff's.
//
//   - lists-within-ttl: 100 sequential lists by one user within the cache TTL. Want
//     1 user read, 1 token.
//   - concurrent-cold-misses: 50 concurrent lists by one user while the tenant holds
//     the user read for 50ms, so all 50 miss the cache together. Want 1 user read,
//     1 token.
//   - token-per-lifetime: 10 concurrent lists by each seeded user (5 users). Want 5
//     user reads, 1 token.
func BenchmarkUpstream(b *testing.B) {
	tenant := devtenanttest.Start(b, devtenant.Options{})
	getenv := productionEnv(tenant, noLimits) // default 30s cache TTL
	const concurrent = 50
	alice := accessTokens(b, tenant, benchUser, concurrent)
	users := []string{"auth0|alice", "auth0|bob", "github|4242", "google-oauth2|1077", "github|9001"}
	var perUser []string
	for _, u := range users {
		perUser = append(perUser, accessTokens(b, tenant, u, 10)...)
	}

	// burst serves every token concurrently through h.
	burst := func(b *testing.B, h http.Handler, tokens []string) {
		var wg sync.WaitGroup
		codes := make([]int, len(tokens))
		for i, tok := range tokens {
			wg.Go(func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, listRequest(tok))
				codes[i] = w.Code
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				b.Fatalf("request %d: status %d", i, c)
			}
		}
	}
	lifetime := func(name string, op func(b *testing.B, h http.Handler)) {
		b.Run(name, func(b *testing.B) {
			tenant.ClearFaults()
			tenant.ResetRequests()
			ops := 0
			for b.Loop() {
				op(b, benchHandler(b, getenv))
				ops++
			}
			tenant.ClearFaults()
			countUpstream(tenant).report(b, ops)
		})
	}

	lifetime("lists-within-ttl", func(b *testing.B, h http.Handler) {
		r := listRequest(alice[0])
		for range 100 {
			serveList(b, h, r)
		}
	})
	lifetime("concurrent-cold-misses", func(b *testing.B, h http.Handler) {
		tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(50 * time.Millisecond), Count: 1})
		burst(b, h, alice)
	})
	lifetime("token-per-lifetime", func(b *testing.B, h http.Handler) {
		burst(b, h, perUser)
	})
}
