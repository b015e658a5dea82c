package main

// The soak (make soak): minutes of mixed load on two linkbff replicas on the real
// Redis, over bearer tokens and browser sessions, while the development tenant
// injects 429s, 5xx, slow answers and connection resets now and then. It runs only
// when SOAK_DURATION is set, under -race (the Makefile's soak target).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	soakBearerWorkers = 4
	soakCookieWorkers = 2
	soakSecondaries   = 3 // per worker, linked and unlinked in turn
)

// soakTenant is the development tenant behind a counter of the answers linkbff gets
// that an injected fault spoiled: an error status (429, 5xx) or a reset connection.
// The soak driver's own calls (X-Soak-Driver) are not counted.
type soakTenant struct {
	*devtenant.Tenant
	bad  atomic.Int64 // spoiled answers to linkbff
	mgmt atomic.Int64 // Management API requests from linkbff
}

func (st *soakTenant) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Soak-Driver") != "" {
		st.Handler().ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		st.mgmt.Add(1)
	}
	sw := &spoilWatch{ResponseWriter: w}
	st.Handler().ServeHTTP(sw, r)
	if sw.hijacked || sw.status == http.StatusTooManyRequests || sw.status >= 500 {
		st.bad.Add(1)
	}
}

// spoilWatch records the status of an answer, or that its connection was taken over
// (to be reset).
type spoilWatch struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *spoilWatch) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *spoilWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// soakUser is one worker's account: a primary and the secondaries it links.
type soakUser struct {
	primary, email, password string
	secondaries              []string
	cookie                   string // the session cookie value, for a cookie worker
	token                    string // the access token, for a bearer worker
}

func soakSeed(seed *devtenant.Seed) []*soakUser {
	for i := range seed.Clients {
		if c := &seed.Clients[i]; c.ClientID == testClientID {
			c.Callbacks = append(c.Callbacks, browserBase+"/auth/callback")
			c.AllowedLogoutURLs = append(c.AllowedLogoutURLs, browserBase+"/")
			c.WebOrigins = append(c.WebOrigins, browserBase)
		}
	}
	var users []*soakUser
	for w := range soakBearerWorkers + soakCookieWorkers {
		u := &soakUser{primary: fmt.Sprintf("auth0|soak-%d", w), email: fmt.Sprintf("soak-%d@example.com", w), password: fmt.Sprintf("soak-password-%d", w)}
		seed.Users = append(seed.Users, devtenant.User{
			UserID: u.primary, Connection: "Username-Password-Authentication", Email: u.email, EmailVerified: true,
			Password: u.password, Name: fmt.Sprintf("Soak %d", w), UserMetadata: map[string]any{"worker": w},
		})
		for s := range soakSecondaries {
			id := fmt.Sprintf("github|soak-%d-%d", w, s)
			u.secondaries = append(u.secondaries, id)
			seed.Users = append(seed.Users, devtenant.User{
				UserID: id, Connection: "github", Email: fmt.Sprintf("soak-%d-%d@example.com", w, s), EmailVerified: true,
				Name: id, UserMetadata: map[string]any{"seeded": id},
			})
		}
		users = append(users, u)
	}
	return users
}

// soakStats are the outcomes of the load, by operation.
type soakStats struct {
	mu       sync.Mutex
	count    map[string]map[int]int     // op -> status -> n
	codes    map[string]int             // "status code" of every error answer -> n
	latency  map[string][]time.Duration // op -> durations
	replicas map[string]int             // replica -> requests
	failures []string                   // what broke the rules
	expected atomic.Int64               // 5xx answers that name an upstream fault
}

func newSoakStats() *soakStats {
	return &soakStats{count: map[string]map[int]int{}, codes: map[string]int{}, latency: map[string][]time.Duration{}, replicas: map[string]int{}}
}

func (s *soakStats) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) < 50 {
		s.failures = append(s.failures, fmt.Sprintf(format, args...))
	}
}

// record files one answer and judges it: 5xx answers are expected only as a problem
// naming an upstream fault (upstream_rate_limited with Retry-After, upstream_unavailable,
// upstream_timeout); any other 5xx, and any answer that is no HTTP answer at all, is a
// failure.
func (s *soakStats) record(op, replica string, res soakResult) {
	s.mu.Lock()
	if s.count[op] == nil {
		s.count[op] = map[int]int{}
	}
	s.count[op][res.status]++
	s.latency[op] = append(s.latency[op], res.took)
	s.replicas[replica]++
	if res.status >= 400 {
		s.codes[fmt.Sprintf("%d %s", res.status, res.code)]++
	}
	s.mu.Unlock()
	switch {
	case res.err != nil:
		s.fail("%s on %s: %v", op, replica, res.err)
	case res.status < 500:
	case res.status == 503 && res.code == "upstream_rate_limited" && res.header.Get("Retry-After") != "",
		res.status == 502 && res.code == "upstream_unavailable",
		res.status == 504 && res.code == "upstream_timeout":
		s.expected.Add(1)
	default:
		s.fail("%s on %s: unexpected %d %s (Retry-After %q)", op, replica, res.status, res.code, res.header.Get("Retry-After"))
	}
}

type soakResult struct {
	status int
	code   string
	header http.Header
	body   map[string]any
	took   time.Duration
	err    error
}

// soakClient sends the workers' requests to either replica: bearer requests as an
// API client does, cookie requests as the page does (browserBase's Host, same
// origin, X-CSRF).
type soakClient struct {
	http     *http.Client
	replicas []string // host:port
}

func (c *soakClient) send(ctx context.Context, u *soakUser, replica, method, path string, body any) soakResult {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+replica+path, rd)
	if err != nil {
		return soakResult{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.cookie != "" {
		req.Host = browserHost
		req.Header.Set("Cookie", "linkbff_session="+u.cookie)
		req.Header.Set("Origin", browserBase)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-CSRF", "1")
	} else {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return soakResult{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	out := soakResult{status: res.StatusCode, header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(&out.body); err != nil && res.StatusCode != http.StatusNoContent {
		out.err = fmt.Errorf("%s %s: %d with a body that is not JSON: %v", method, path, res.StatusCode, err)
	}
	out.took = time.Since(start)
	out.code, _ = out.body["code"].(string)
	return out
}

// soakDriver talks to the tenant's Management API for the soak itself (to give a
// secondary fresh metadata), marked so that the tenant's counter leaves it out.
type soakDriver struct {
	tenant *soakTenant
	token  string
	client *http.Client
}

// setMetadata gives userID's user_metadata key the value v, retrying what an
// injected fault spoils.
func (d *soakDriver) setMetadata(userID, key string, v any) error {
	body, _ := json.Marshal(map[string]any{"user_metadata": map[string]any{key: v}})
	var last string
	for range 20 {
		req, _ := http.NewRequest(http.MethodPatch, d.tenant.URL()+"/api/v2/users/"+userID, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+d.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Soak-Driver", "1")
		res, err := d.client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return nil
		}
		last = res.Status
	}
	return fmt.Errorf("PATCH %s: %s", userID, last)
}

// soakFaults are injected in turn, one every faultEvery: each spoils a few answers.
var soakFaults = []struct {
	endpoint string
	fault    devtenant.Fault
}{
	{devtenant.EndpointGetUser, devtenant.Fault{Status: 429, Count: 2, RetryAfter: 1}},
	{devtenant.EndpointGetUser, devtenant.Fault{Status: 503, Count: 1}},
	{devtenant.EndpointPatchUser, devtenant.Fault{Status: 500, Count: 1}},
	{devtenant.EndpointLinkIdentity, devtenant.Fault{Status: 502, Count: 1}},
	{devtenant.EndpointUnlinkIdentity, devtenant.Fault{Reset: true, Count: 1}},
	{devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(400 * time.Millisecond), Count: 3}},
	// More 429s than the links in flight can retry past (each retries twice): some
	// links answer 503 upstream_rate_limited with Retry-After.
	{devtenant.EndpointLinkIdentity, devtenant.Fault{Status: 429, Count: 14, RetryAfter: 1}},
	{devtenant.EndpointGetUser, devtenant.Fault{Reset: true, Count: 1}},
	{devtenant.EndpointUnlinkIdentity, devtenant.Fault{Latency: devtenant.Duration(time.Second), Count: 1}},
}

const faultEvery = 1500 * time.Millisecond

func TestSoak(t *testing.T) {
	d := os.Getenv("SOAK_DURATION")
	if d == "" {
		t.Skip("the soak runs with make soak (SOAK_DURATION set)")
	}
	duration, err := time.ParseDuration(d)
	if err != nil || duration <= 0 {
		t.Fatalf("SOAK_DURATION=%q: want a duration such as 3m", d)
	}

	// The tenant, served through the counter, and two replicas on one Redis.
	seed := devtenant.DemoSeed()
	users := soakSeed(&seed)
	st := &soakTenant{}
	startTenantBehind(t, devtenant.Options{Seed: &seed}, func(tenant *devtenant.Tenant) http.Handler {
		st.Tenant = tenant
		return http.HandlerFunc(st.serve)
	})

	env := redisEnv(t)
	maps.Copy(env, map[string]string{
		"AUTH0_DOMAIN": st.URL(), "AUTH0_AUDIENCE": testAudience, "AUTH0_CLIENT_ID": testClientID,
		"AUTH0_CLIENT_SECRET": "linkbff-dev-secret-do-not-use-in-production", "LINK_ALLOWED_AUDIENCES": nativeClient,
		"LISTEN_ADDR": "127.0.0.1:0", "BASE_URL": browserBase, "LOG_LEVEL": "warn",
		// The limits are counted (in Redis) but set where this load never meets them:
		// the soak is about the upstream faults.
		"RATE_LIMIT_USER_WRITES_PER_MINUTE": "1000000", "RATE_LIMIT_USER_READS_PER_MINUTE": "1000000",
		"RATE_LIMIT_IP_WRITES_PER_MINUTE": "1000000", "RATE_LIMIT_IP_READS_PER_MINUTE": "1000000",
	})
	var replicas []string
	for range 2 {
		replicas = append(replicas, strings.TrimPrefix(startRun(t, func(k string) string { return env[k] }, &syncBuffer{}, io.Discard), "http://"))
	}

	// Credentials: access tokens for the bearer workers, a sign-in through the
	// tenant's form (on the first replica) for the cookie workers.
	for i, u := range users {
		if i < soakBearerWorkers {
			tok, err := st.Mint(devtenant.MintRequest{UserID: u.primary, ClientID: testClientID, Audience: testAudience, TTL: devtenant.Duration(duration + 10*time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			u.token = tok.AccessToken
			continue
		}
		b := newBrowser(t, "http://"+replicas[0])
		if got := b.login("/", u.email, u.password); got != "/" {
			t.Fatalf("%s signed in to %q", u.email, got)
		}
		u.cookie = b.sessionCookie()
	}
	mgmtToken, err := st.ManagementToken(testClientID, "read:users update:users", duration+10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &soakClient{http: &http.Client{Transport: transport, Timeout: 30 * time.Second}, replicas: replicas}
	driver := &soakDriver{tenant: st, token: mgmtToken, client: &http.Client{Timeout: 10 * time.Second}}
	stats := newSoakStats()

	// Warm up: the same load for a few seconds without faults, so that every pool
	// (linkbff's connections to the tenant and to Redis, the tenant's to linkbff) is
	// at its working size. Then the baseline: goroutines and heap of this process,
	// which holds both replicas, the tenant and the clients.
	warm := newSoakStats()
	wctx, wcancel := context.WithTimeout(context.Background(), min(10*time.Second, duration/6))
	var wwg sync.WaitGroup
	for w, u := range users {
		wwg.Go(func() { soakWorker(wctx, w, u, client, driver, st, warm) })
	}
	wwg.Wait()
	wcancel()
	for _, f := range warm.failures {
		t.Errorf("warm-up: %s", f)
	}
	transport.CloseIdleConnections()
	baseG, baseHeap := settle()
	t.Logf("baseline: %d goroutines, heap %.1f MiB", baseG, mib(baseHeap))

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	injected := 0
	wg.Go(func() {
		tick := time.NewTicker(faultEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			f := soakFaults[i%len(soakFaults)]
			st.InjectFault(f.endpoint, f.fault)
			injected++
		}
	})
	for w, u := range users {
		wg.Go(func() { soakWorker(ctx, w, u, client, driver, st, stats) })
	}
	wg.Wait()
	st.ClearFaults()

	// Afterwards: every answer judged, the state whole, and the process back near
	// its baseline once the clients hang up.
	transport.CloseIdleConnections()
	endG, endHeap := settle()

	var total int
	var out strings.Builder
	fmt.Fprintf(&out, "soak: %v, 2 replicas on Redis, %d bearer + %d cookie workers, -race\n", duration, soakBearerWorkers, soakCookieWorkers)
	for _, op := range slices.Sorted(maps.Keys(stats.count)) {
		n := 0
		for _, c := range stats.count[op] {
			n += c
		}
		total += n
		lat := stats.latency[op]
		slices.Sort(lat)
		fmt.Fprintf(&out, "  %-7s %6d requests  p50 %7s  p99 %7s  max %7s  statuses %v\n", op, n,
			pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond), stats.count[op])
	}
	fmt.Fprintf(&out, "  total %d requests (%.0f/s), by replica %v\n", total, float64(total)/duration.Seconds(), stats.replicas)
	fmt.Fprintf(&out, "  error answers: %v\n", stats.codes)
	fmt.Fprintf(&out, "  faults injected: %d; answers they spoiled: %d of %d Management API requests; 5xx naming an upstream fault: %d\n",
		injected, st.bad.Load(), st.mgmt.Load(), stats.expected.Load())
	fmt.Fprintf(&out, "  goroutines: %d before, %d after; heap: %.1f MiB before, %.1f MiB after\n", baseG, endG, mib(baseHeap), mib(endHeap))
	fmt.Print(out.String())

	for _, f := range stats.failures {
		t.Error(f)
	}
	if n, bad := stats.expected.Load(), st.bad.Load(); n > bad {
		t.Errorf("%d answers blamed Auth0, but only %d of its answers were spoiled", n, bad)
	}
	if len(stats.replicas) != 2 {
		t.Errorf("requests reached %v, want both replicas", stats.replicas)
	}
	if endG > baseG+10 {
		t.Errorf("goroutines: %d after the load, %d before", endG, baseG)
	}
	if endHeap > 2*baseHeap+16<<20 {
		t.Errorf("heap: %.1f MiB after the load, %.1f MiB before", mib(endHeap), mib(baseHeap))
	}
}

// soakWorker runs one user's loop until ctx ends: a few reads, then a link of the
// next secondary (nonce, the secondary's login, link) with a check that no metadata
// was lost, a read, and the unlink; each request on a replica picked at random.
func soakWorker(ctx context.Context, w int, u *soakUser, c *soakClient, d *soakDriver, st *soakTenant, stats *soakStats) {
	rnd := rand.New(rand.NewPCG(uint64(w), 42))
	pick := func() string { return c.replicas[rnd.IntN(len(c.replicas))] }
	do := func(op, method, path string, body any) soakResult {
		r := pick()
		res := c.send(ctx, u, r, method, path, body)
		if ctx.Err() != nil {
			return soakResult{err: ctx.Err()}
		}
		stats.record(op, r, res)
		return res
	}
	for cycle := 0; ctx.Err() == nil; cycle++ {
		for range 1 + rnd.IntN(4) {
			do("read", "GET", "/me/identities", nil)
		}
		sec := u.secondaries[cycle%len(u.secondaries)]
		provider, id, _ := strings.Cut(sec, "|")
		unlink := func() {
			for attempt := 0; attempt < 5 && ctx.Err() == nil; attempt++ {
				if res := do("unlink", "DELETE", "/me/identities/"+provider+"/"+id, nil); res.status == http.StatusOK || res.status == http.StatusNotFound {
					return
				}
			}
		}
		if isLinked(st, u.primary, sec) { // an unlink that faults kept failing last time
			unlink()
			continue
		}
		key := fmt.Sprintf("soak_%s_%d", strings.ReplaceAll(sec, "|", "_"), cycle)
		if err := d.setMetadata(sec, key, cycle); err != nil {
			stats.fail("worker %d: %v", w, err)
			return
		}
		res := do("nonce", "POST", "/me/identities/nonce", nil)
		if res.status != http.StatusCreated {
			continue
		}
		nonce, _ := res.body["nonce"].(string)
		client := testClientID // link_with
		if cycle%2 == 1 {
			client = nativeClient // provider and user_id
		}
		tok, err := st.Mint(devtenant.MintRequest{UserID: sec, ClientID: client, Nonce: nonce})
		if err != nil {
			stats.fail("worker %d: mint: %v", w, err)
			return
		}
		res = do("link", "POST", "/me/identities", map[string]string{"link_with": tok.IDToken})
		if ctx.Err() != nil {
			return
		}
		linked := checkSoakMetadata(st, u.primary, sec, key, cycle, stats)
		if res.status == http.StatusCreated && !linked {
			stats.fail("worker %d: link of %s answered 201, but the tenant has not linked it", w, sec)
		}
		if !linked {
			continue
		}
		do("read", "GET", "/me/identities", nil)
		unlink()
	}
}

// isLinked reports whether sec is one of primary's identities at the tenant now.
func isLinked(st *soakTenant, primary, sec string) bool {
	p, _ := st.UserSnapshot(primary)
	ids, _ := p["identities"].([]any)
	for _, id := range ids {
		m, _ := id.(map[string]any)
		if fmt.Sprintf("%v|%v", m["provider"], m["user_id"]) == sec {
			return true
		}
	}
	return false
}

// checkSoakMetadata reports whether sec is linked to primary now, and checks that
// the metadata the secondary held before the link attempt is still somewhere: in the
// primary once linked (Auth0 drops the secondary's), in the secondary otherwise.
func checkSoakMetadata(st *soakTenant, primary, sec, key string, cycle int, stats *soakStats) bool {
	linked := isLinked(st, primary, sec)
	holder := primary
	if !linked {
		holder = sec
	}
	u, ok := st.UserSnapshot(holder)
	if !ok {
		stats.fail("%s is gone after a link attempt of %s (linked %v)", holder, sec, linked)
		return linked
	}
	md, _ := u["user_metadata"].(map[string]any)
	if v, ok := md[key].(float64); !ok || int(v) != cycle {
		stats.fail("metadata lost: %s should hold %s=%d after a link attempt (linked %v), has %v", holder, key, cycle, linked, md)
	}
	return linked
}

// settle collects garbage and waits (a bounded while) for the goroutines of closed
// connections to finish, then reports the goroutines and the heap in use.
func settle() (goroutines int, heap uint64) {
	deadline := time.Now().Add(testkit.Timeout)
	prev := -1
	for time.Now().Before(deadline) {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n == prev {
			break
		}
		prev = n
		time.Sleep(200 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted) - 1) * p / 100
	return sorted[i].Round(time.Millisecond)
}
