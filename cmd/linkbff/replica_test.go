package main

// Replicas: two linkbff processes (run) on one Redis and one development tenant,
// which serves through a recorder of the Management API calls in arrival order.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/testkit"
)

// mgmtCall is one Management API request as the tenant received it. Target is the
// other user it concerns: the one read, linked or unlinked ("" for calls on the
// primary alone).
type mgmtCall struct {
	Method, Path, Target string
}

// recordedTenant is a development tenant whose Management API calls are recorded.
type recordedTenant struct {
	*devtenant.Tenant
	mu    sync.Mutex
	calls []mgmtCall
}

func startRecordedTenant(t *testing.T, tweak func(*devtenant.Seed)) *recordedTenant {
	t.Helper()
	seed := devtenant.DemoSeed()
	if tweak != nil {
		tweak(&seed)
	}
	rt := &recordedTenant{}
	startTenantBehind(t, devtenant.Options{Seed: &seed}, func(tenant *devtenant.Tenant) http.Handler {
		rt.Tenant = tenant
		return rt.record(tenant.Handler())
	})
	return rt
}

func (rt *recordedTenant) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v2/users/"); ok {
			call := mgmtCall{Method: r.Method, Path: r.URL.Path}
			user, ids, _ := strings.Cut(rest, "/identities")
			switch {
			case r.Method == http.MethodGet && user != "auth0|alice":
				call.Target = user
			case r.Method == http.MethodPost && ids == "":
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				call.Target = linkTarget(body)
			case r.Method == http.MethodDelete:
				provider, id, _ := strings.Cut(strings.TrimPrefix(ids, "/"), "/")
				call.Target = provider + "|" + id
			}
			rt.mu.Lock()
			rt.calls = append(rt.calls, call)
			rt.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// linkTarget is the user a link request names: the sub of its link_with token, or
// its provider|user_id.
func linkTarget(body []byte) string {
	var req struct {
		LinkWith string `json:"link_with"`
		Provider string `json:"provider"`
		UserID   string `json:"user_id"`
	}
	_ = json.Unmarshal(body, &req)
	if req.LinkWith == "" {
		return req.Provider + "|" + req.UserID
	}
	if sub, ok := jwtClaims(req.LinkWith)["sub"].(string); ok {
		return sub
	}
	return "?"
}

func (rt *recordedTenant) recorded() []mgmtCall {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.calls)
}

// operations splits alice's Management API calls into the operations that made
// them, which must not interleave: a link is GET alice, GET the secondary, maybe
// PATCH alice, POST the link; an unlink is maybe GET alice (a cache miss), then
// DELETE. It fails on any other sequence, naming where.
func operations(calls []mgmtCall) ([]string, error) {
	isPrimary := func(i int, method string) bool {
		return i < len(calls) && calls[i].Method == method && calls[i].Target == ""
	}
	is := func(i int, method, target string) bool {
		return i < len(calls) && calls[i].Method == method && calls[i].Target == target && target != ""
	}
	var ops []string
	for i := 0; i < len(calls); {
		switch {
		case isPrimary(i, "GET") && i+1 < len(calls) && calls[i+1].Method == "GET":
			target := calls[i+1].Target
			j := i + 2
			if isPrimary(j, "PATCH") {
				j++
			}
			if !is(j, "POST", target) {
				return ops, fmt.Errorf("the link of %s was interleaved at call %d: %v", target, j, calls[i:min(j+1, len(calls))])
			}
			ops, i = append(ops, "link "+target), j+1
		case isPrimary(i, "GET") && i+1 < len(calls) && calls[i+1].Method == "DELETE":
			ops, i = append(ops, "unlink "+calls[i+1].Target), i+2
		case is(i, "DELETE", calls[i].Target):
			ops, i = append(ops, "unlink "+calls[i].Target), i+1
		default:
			return ops, fmt.Errorf("call %d %v starts no operation: interleaved? %v", i, calls[i], calls[i:])
		}
	}
	return ops, nil
}

// redisEnv points linkbff at the test Redis under a key prefix of this test.
func redisEnv(t *testing.T) map[string]string {
	t.Helper()
	url := testkit.RedisURL(t)
	return map[string]string{"REDIS_URL": url, "REDIS_KEY_PREFIX": testkit.RedisPrefix(t, url)}
}

// sendAll sends the requests at once and returns their answers. A request that
// gets no answer within testkit.Timeout fails the test.
func sendAll(t *testing.T, reqs ...*http.Request) []response {
	t.Helper()
	client := testkit.HTTPClient(t)
	out := make([]response, len(reqs))
	errs := testkit.Parallel(t, len(reqs), func(i int) error {
		res, err := client.Do(reqs[i])
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out[i] = response{status: res.StatusCode, header: res.Header, body: b}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s %s: %v", reqs[i].Method, reqs[i].URL, err)
		}
	}
	return out
}

func TestReplicasShareNoncesAndCache(t *testing.T) {
	rt := startRecordedTenant(t, nil)
	env := redisEnv(t)
	a, b := startAppOn(t, rt.Tenant, env), startAppOn(t, rt.Tenant, env)
	alice := a.accessToken("auth0|alice")

	for name, rep := range map[string]*app{"A": a, "B": b} {
		r := rep.do("GET", "/readyz", "", nil)
		if r.status != http.StatusOK || r.json(t)["checks"].(map[string]any)["redis"] != "ok" {
			t.Errorf("readiness of %s: %d %s, want 200 with redis ok", name, r.status, r.body)
		}
	}

	// A reads first: the cache holds alice's one identity.
	if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
		t.Fatalf("list on A: %d %s", r.status, r.body)
	}

	// A nonce issued by A is consumed by a link on B...
	nonce := a.nonce(alice)
	secondary := a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: nonce}).IDToken
	r := b.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary})
	if r.status != http.StatusCreated {
		t.Fatalf("link on B with A's nonce: %d %s", r.status, r.body)
	}
	// ...once: its second use fails on either, before any Management API call.
	for name, rep := range map[string]*app{"A": a, "B": b} {
		rt.ResetRequests()
		r := rep.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary})
		wantProblem(t, r, http.StatusBadRequest, "nonce_mismatch")
		if n := rt.ManagementRequests(); n != 0 {
			t.Errorf("second use on %s made %d Management API calls", name, n)
		}
	}

	// The next read on A sees B's link, from the shared cache.
	rt.ResetRequests()
	r = a.do("GET", "/me/identities", alice, nil)
	if diff := cmp.Diff([]string{"auth0|alice", "github|4242"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("list on A after the link on B (-want +got):\n%s", diff)
	}
	if n := rt.ManagementRequests(); n != 0 {
		t.Errorf("list on A after the link on B made %d Management API calls, want 0 (shared cache)", n)
	}

	// And the other way round, for an unlink.
	if r := a.do("DELETE", "/me/identities/github/4242", alice, nil); r.status != http.StatusOK {
		t.Fatalf("unlink on A: %d %s", r.status, r.body)
	}
	rt.ResetRequests()
	r = b.do("GET", "/me/identities", alice, nil)
	if diff := cmp.Diff([]string{"auth0|alice"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("list on B after the unlink on A (-want +got):\n%s", diff)
	}
	if n := rt.ManagementRequests(); n != 0 {
		t.Errorf("list on B after the unlink on A made %d Management API calls, want 0 (shared cache)", n)
	}
}

// TestReplicasSerializeLinkAndUnlink sends, round after round, a link to one replica
// and at the same moment an unlink of the previous round's identity to the other.
// The tenant's record shows every operation's Management API calls contiguous, and
// alice's metadata holds what each linked account brought.
func TestReplicasSerializeLinkAndUnlink(t *testing.T) {
	const rounds = 6
	users := make([]string, rounds)
	rt := startRecordedTenant(t, func(s *devtenant.Seed) {
		for i := range users {
			users[i] = fmt.Sprintf("github|77%02d", i)
			s.Users = append(s.Users, devtenant.User{
				UserID: users[i], Connection: "github", Email: fmt.Sprintf("r%d@users.noreply.example", i), EmailVerified: true,
				Name: fmt.Sprintf("replica-%d", i), UserMetadata: map[string]any{fmt.Sprintf("brought_by_%d", i): true},
			})
		}
	})
	env := redisEnv(t)
	// No nonces: an unlink revokes the account's pending ones, so a link racing an
	// unlink may lose its nonce to it, by design; what is measured here is the order
	// of the Management API calls. (Without nonces is a weakened setting.)
	env["LINK_REQUIRE_NONCE"] = "false"
	env["LINKBFF_ALLOW_INSECURE"] = "1"
	replicas := []*app{startAppOn(t, rt.Tenant, env), startAppOn(t, rt.Tenant, env)}
	alice := replicas[0].accessToken("auth0|alice")
	if r := replicas[0].do("GET", "/me/identities", alice, nil); r.status != http.StatusOK { // warm up both
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := replicas[1].do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	// Slow user reads widen each operation, so two that are not serialized overlap.
	rt.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(20 * time.Millisecond)})
	rt.mu.Lock()
	rt.calls = nil
	rt.mu.Unlock()

	var want []string
	for i := range rounds {
		linker, unlinker := replicas[i%2], replicas[(i+1)%2]
		tok := linker.mint(devtenant.MintRequest{UserID: users[i]}).IDToken
		reqs := []*http.Request{newRequest(t, "POST", linker.url+"/me/identities", alice, map[string]string{"link_with": tok})}
		want = append(want, "link "+users[i])
		if i > 0 {
			provider, id, _ := strings.Cut(users[i-1], "|")
			reqs = append(reqs, newRequest(t, "DELETE", unlinker.url+"/me/identities/"+provider+"/"+id, alice, nil))
			want = append(want, "unlink "+users[i-1])
		}
		res := sendAll(t, reqs...)
		if res[0].status != http.StatusCreated {
			t.Fatalf("round %d: link: %d %s", i, res[0].status, res[0].body)
		}
		if len(res) > 1 && res[1].status != http.StatusOK {
			t.Fatalf("round %d: unlink: %d %s", i, res[1].status, res[1].body)
		}
	}
	rt.ClearFaults()

	got, err := operations(rt.recorded())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations seen by the tenant (-want +got):\n%s", diff)
	}

	user, _ := rt.UserSnapshot("auth0|alice")
	meta := user["user_metadata"].(map[string]any)
	for i := range users {
		if meta[fmt.Sprintf("brought_by_%d", i)] != true {
			t.Errorf("alice's metadata lost what %s brought: %v", users[i], meta)
		}
	}
	if meta["theme"] != "dark" || meta["locale"] != "en" {
		t.Errorf("alice's own metadata changed: %v", meta)
	}
	r := replicas[1].do("GET", "/me/identities", alice, nil)
	if diff := cmp.Diff([]string{"auth0|alice", users[rounds-1]}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("identities at the end (-want +got):\n%s", diff)
	}
}

// TestRedisOutageOverRun makes linkbff's Redis unreachable while a browser is
// signed in and a bearer client holds a link nonce, once refusing connections (cut)
// and once accepting them and never answering (stalled). Within the request
// deadline: /readyz reports redis unreachable; a bearer read is served by Auth0 (its
// cache calls give up after identity's CacheTimeout); nonce, link and unlink answer
// 503 store_unavailable and cookie requests 503 session_unavailable, each with
// Retry-After. When Redis is back, linkbff becomes ready again by itself, and the
// session and the nonce from before the outage work.
func TestRedisOutageOverRun(t *testing.T) {
	for _, outage := range []struct {
		name  string
		start func(*testkit.TCPProxy)
	}{
		{"cut", (*testkit.TCPProxy).Cut},
		{"stalled", (*testkit.TCPProxy).Stall},
	} {
		t.Run(outage.name, func(t *testing.T) {
			env := redisEnv(t)
			proxy := testkit.StartTCPProxy(t, testkit.RedisAddr(t, env["REDIS_URL"]))
			// A Redis I/O timeout well above the cache calls' bound, so that a read
			// bounded only by it is told apart from one bounded by CacheTimeout with
			// room to spare on a loaded machine.
			const ioTimeout = 3 * time.Second
			via, err := url.Parse(testkit.RedisURLVia(t, env["REDIS_URL"], proxy.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			q := via.Query()
			q.Set("read_timeout", ioTimeout.String())
			q.Set("write_timeout", ioTimeout.String())
			via.RawQuery = q.Encode()
			env["REDIS_URL"] = via.String()
			const deadline = 8 * time.Second // above ioTimeout: the writes wait for it before their 503
			env["REQUEST_TIMEOUT"] = deadline.String()
			tenant := startBrowserTenant(t)
			a := &app{t: t, tenant: tenant.Tenant, url: startBrowserApp(t, tenant, env), client: testkit.HTTPClient(t)}
			browser := newBrowser(t, a.url)
			browser.loginAsAlice()
			cookie := browser.sessionCookie()
			alice := a.accessToken("auth0|alice")
			nonce := a.nonce(alice) // Redis works; this intent must survive the outage
			secondary := a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: nonce}).IDToken
			if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK { // cached now
				t.Fatalf("list before the outage: %d %s", r.status, r.body)
			}

			outage.start(proxy)
			// A bearer read alone, timed: its cache calls give up after identity's
			// CacheTimeout, and Auth0 answers. Were they bounded only by the Redis
			// client's I/O timeout, a stalled Redis would cost it at least that.
			tenant.ResetRequests()
			start := time.Now()
			r := a.do("GET", "/me/identities", alice, nil)
			took := time.Since(start)
			t.Logf("Redis %s: bearer read answered %d in %v", outage.name, r.status, took)
			if r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|alice" {
				t.Errorf("bearer read with Redis %s: %d %s, want 200 from Auth0", outage.name, r.status, r.body)
			}
			if n := tenant.ManagementRequests(); n == 0 {
				t.Error("the bearer read made no Management API call: it was not served by Auth0")
			}
			if took >= ioTimeout {
				t.Errorf("bearer read with Redis %s took %v, a Redis I/O timeout (%v): its cache calls were not bounded by identity's CacheTimeout (%v)",
					outage.name, took, ioTimeout, identity.DefaultCacheTimeout)
			}

			withCookie := func(method, path string) *http.Request {
				req := newRequest(t, method, a.url+path, "", nil)
				req.AddCookie(&http.Cookie{Name: "linkbff_session", Value: cookie})
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("X-CSRF", "1")
				return req
			}
			refused := []struct {
				req  *http.Request
				code string
			}{
				{newRequest(t, "POST", a.url+"/me/identities/nonce", alice, nil), "store_unavailable"},
				{newRequest(t, "POST", a.url+"/me/identities", alice, map[string]string{"link_with": secondary}), "store_unavailable"},
				{newRequest(t, "DELETE", a.url+"/me/identities/github/4242", alice, nil), "store_unavailable"},
				{withCookie("GET", "/me/identities"), "session_unavailable"},
				{withCookie("POST", "/me/identities/nonce"), "session_unavailable"},
				{withCookie("GET", "/auth/session"), "session_unavailable"},
			}
			reqs := []*http.Request{newRequest(t, "GET", a.url+"/readyz", "", nil)}
			for _, r := range refused {
				reqs = append(reqs, r.req)
			}
			start = time.Now()
			res := sendAll(t, reqs...)
			took = time.Since(start)
			t.Logf("Redis %s: %d requests at once answered in %v", outage.name, len(reqs), took)
			if took >= deadline {
				t.Errorf("the requests took %v with Redis %s, past the %v request deadline", took, outage.name, deadline)
			}

			if checks, _ := res[0].json(t)["checks"].(map[string]any); res[0].status != http.StatusServiceUnavailable || checks["redis"] != "unreachable" || checks["auth0"] != "ok" {
				t.Errorf("readiness with Redis %s: %d %s, want 503 with redis unreachable", outage.name, res[0].status, res[0].body)
			}
			for i, want := range refused {
				how := "bearer"
				if want.req.Header.Get("Authorization") == "" {
					how = "cookie"
				}
				t.Run(how+" "+want.req.Method+" "+want.req.URL.Path, func(t *testing.T) {
					r := res[1+i]
					wantProblem(t, r, http.StatusServiceUnavailable, want.code)
					if r.header.Get("Retry-After") == "" {
						t.Error("no Retry-After")
					}
				})
			}

			proxy.Restore()
			// linkbff's client probes a refused server about once a second: wait
			// (bounded) for readiness, which is what a load balancer would do.
			start = time.Now()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for a.do("GET", "/readyz", "", nil).status != http.StatusOK {
				if time.Since(start) > 10*time.Second {
					t.Fatal("linkbff did not become ready within 10s of Redis coming back")
				}
				<-tick.C
			}
			t.Logf("Redis back: ready again after %v", time.Since(start))
			if r := browser.api("GET", "/me/identities", nil); r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|alice" {
				t.Errorf("the session from before the outage: %d %s", r.status, r.body)
			}
			if r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary}); r.status != http.StatusCreated {
				t.Errorf("link with the nonce issued before the outage: %d %s", r.status, r.body)
			}
		})
	}
}
