package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/testkit"
)

// series are the values of one scrape of /metrics, by name and labels
// (`name{k="v",…}`, labels sorted); a histogram gives its sample count as name_count.
type series map[string]float64

// scrape reads and parses the metrics at url.
func scrape(t *testing.T, client *http.Client, url string) series {
	t.Helper()
	res, body := testkit.Get(t, client, url)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("GET %s: not the text format: %v", url, err)
	}
	out := series{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				out[seriesKey(name, labels...)] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[seriesKey(name, labels...)] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[seriesKey(name+"_count", labels...)] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// seriesKey is name{k="v",…} of label pairs, sorted by label name.
func seriesKey(name string, labels ...string) string {
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// get is the value of one series (0 when absent, as a counter not yet incremented is).
func (s series) get(name string, labels ...string) float64 { return s[seriesKey(name, labels...)] }

// sum adds up the series of name that carry every label pair of match.
func (s series) sum(name string, match ...string) float64 {
	total := 0.0
	for key, v := range s {
		if !strings.HasPrefix(key, name+"{") {
			continue
		}
		all := true
		for i := 0; i+1 < len(match); i += 2 {
			all = all && strings.Contains(key, fmt.Sprintf("%s=%q", match[i], match[i+1]))
		}
		if all {
			total += v
		}
	}
	return total
}

// TestMetricsMoveEndToEnd drives linkbff (run, production mode, METRICS_ADDR set)
// through lists, a link, an unlink and their refusals, a 429 and a 401 from the
// Management API, and a key rotation, and checks that every metric moved by what
// happened: against the requests the development tenant counted where it can, so
// the test does not merely repeat linkbff's own bookkeeping.
func TestMetricsMoveEndToEnd(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	stdout := &syncBuffer{}
	a := &app{t: t, tenant: tenant, stderr: &syncBuffer{}, client: testkit.HTTPClient(t)}
	a.url = startRun(t, productionEnv(tenant, map[string]string{"LOG_LEVEL": "debug", "METRICS_ADDR": "127.0.0.1:0"}), stdout, a.stderr)
	metricsURL := testkit.Recv(t, stdout.servingURL("metrics (METRICS_ADDR) on", "metrics listening"), "the metrics listener's line")
	if strings.HasPrefix(metricsURL, a.url) || !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("metrics at %s, want a listener of their own (main: %s)", metricsURL, a.url)
	}
	wantProblem(t, a.do("GET", "/metrics", "", nil), http.StatusNotFound, "not_found")

	// Startup fetched the signing keys and a Management API token, once each.
	before := scrape(t, a.client, metricsURL)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"linkbff_jwks_refreshes_total", []string{"result", "ok"}, 1},
		{"linkbff_management_api_token_fetches_total", []string{"result", "ok"}, 1},
		{"linkbff_management_api_requests_total", []string{"endpoint", "token", "status", "200"}, 1},
	} {
		if got := before.get(c.name, c.labels...); got != c.want {
			t.Errorf("at startup %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if before.sum("linkbff_build_info") != 1 {
		t.Error("no linkbff_build_info 1")
	}
	tenant.ResetRequests()

	alice := a.accessToken("auth0|alice")
	want := func(r response, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%d %s, want %d", r.status, r.body, status)
		}
	}
	// A list (both caches miss), then again (both hit).
	want(a.do("GET", "/me/identities", alice, nil), http.StatusOK)
	want(a.do("GET", "/me/identities", alice, nil), http.StatusOK)
	// A link, and a refused one: a secondary login without the nonce.
	want(a.link(alice, "github|4242"), http.StatusCreated)
	noNonce := a.mint(devtenant.MintRequest{UserID: "github|5150"}).IDToken
	wantProblem(t, a.do("POST", "/me/identities", alice, map[string]string{"link_with": noNonce}), http.StatusBadRequest, "nonce_mismatch")
	// An unlink, and one of an identity no longer there.
	want(a.do("DELETE", "/me/identities/github/4242", alice, nil), http.StatusOK)
	wantProblem(t, a.do("DELETE", "/me/identities/github/4242", alice, nil), http.StatusNotFound, "identity_not_found")
	// A 429 from the Management API, retried after its Retry-After (1s).
	tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfter: 1})
	want(a.do("GET", "/me/identities", a.accessToken("auth0|bob"), nil), http.StatusOK)
	// A 401: the Management API token thrown away, a fresh one fetched, the read sent again.
	tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: http.StatusUnauthorized, Count: 1})
	want(a.do("GET", "/me/identities", a.accessToken("google-oauth2|1077"), nil), http.StatusOK)
	// A token signed with a key linkbff has not seen: one JWKS refresh.
	if err := tenant.RotateKeys(devtenant.SwitchSigningKey); err != nil {
		t.Fatal(err)
	}
	want(a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil), http.StatusOK)

	after := scrape(t, a.client, metricsURL)
	moved := func(name string, labels ...string) float64 {
		return after.get(name, labels...) - before.get(name, labels...)
	}
	summed := func(name string, match ...string) float64 {
		return after.sum(name, match...) - before.sum(name, match...)
	}
	type check struct {
		what      string
		got, want float64
	}
	checks := []check{
		{"token cache misses (alice, bob, google, alice's new token)", moved("linkbff_cache_requests_total", "cache", "token", "result", "miss"), 4},
		{"token cache hits (alice: list, nonce, link, refused link, unlink twice)", moved("linkbff_cache_requests_total", "cache", "token", "result", "hit"), 6},
		{"identity cache misses (alice, bob, google)", moved("linkbff_cache_requests_total", "cache", "identity", "result", "miss"), 3},
		{"identity cache hits (alice's second list, both unlinks, the last list)", moved("linkbff_cache_requests_total", "cache", "identity", "result", "hit"), 4},
		{"identity cache errors", moved("linkbff_cache_requests_total", "cache", "identity", "result", "error"), 0},
		{"links ok", moved("linkbff_link_outcomes_total", "operation", "link", "outcome", "ok"), 1},
		{"links refused: nonce_mismatch", moved("linkbff_link_outcomes_total", "operation", "link", "outcome", "nonce_mismatch"), 1},
		{"unlinks ok", moved("linkbff_link_outcomes_total", "operation", "unlink", "outcome", "ok"), 1},
		{"unlinks refused: identity_not_found", moved("linkbff_link_outcomes_total", "operation", "unlink", "outcome", "identity_not_found"), 1},
		{"all outcomes", summed("linkbff_link_outcomes_total"), 4},
		{"429s", moved("linkbff_management_api_rate_limited_total", "endpoint", "get_user"), 1},
		{"user reads answered 429", moved("linkbff_management_api_requests_total", "endpoint", "get_user", "status", "429"), 1},
		{"user reads answered 401", moved("linkbff_management_api_requests_total", "endpoint", "get_user", "status", "401"), 1},
		{"retries after a 429", moved("linkbff_management_api_retries_total", "endpoint", "get_user", "reason", "rate_limited"), 1},
		{"retries with a fresh token", moved("linkbff_management_api_retries_total", "endpoint", "get_user", "reason", "token_renewed"), 1},
		{"token fetches", moved("linkbff_management_api_token_fetches_total", "result", "ok"), 1},
		{"failed token fetches", summed("linkbff_management_api_token_fetches_total") - moved("linkbff_management_api_token_fetches_total", "result", "ok"), 0},
		{"JWKS refreshes", moved("linkbff_jwks_refreshes_total", "result", "ok"), 1},
		{"failed JWKS refreshes", moved("linkbff_jwks_refreshes_total", "result", "error"), 0},
		{"budget refusals", moved("linkbff_management_api_budget_refusals_total"), 0},
	}
	// Every request the tenant received is counted, by endpoint, with its latency;
	// each Management API request waited for its slot of the budget once.
	apiRequests := 0
	for _, ep := range []struct{ label, tenant string }{
		{"get_user", devtenant.EndpointGetUser},
		{"patch_user", devtenant.EndpointPatchUser},
		{"link", devtenant.EndpointLinkIdentity},
		{"unlink", devtenant.EndpointUnlinkIdentity},
		{"users_by_email", devtenant.EndpointUsersByEmail},
		{"token", devtenant.EndpointToken},
	} {
		n := tenant.RequestCount(ep.tenant)
		if ep.label != "token" {
			apiRequests += n
		}
		checks = append(checks,
			check{ep.label + " requests (the tenant's count)", summed("linkbff_management_api_requests_total", "endpoint", ep.label), float64(n)},
			check{ep.label + " latencies", moved("linkbff_management_api_request_duration_seconds_count", "endpoint", ep.label), float64(n)})
	}
	checks = append(checks,
		check{"budget waits granted", moved("linkbff_management_api_budget_wait_seconds_count", "outcome", "granted"), float64(apiRequests)},
		check{"budget waits cancelled", moved("linkbff_management_api_budget_wait_seconds_count", "outcome", "cancelled"), 0})
	if n := tenant.RequestCount(devtenant.EndpointJWKS); n != 1 {
		t.Errorf("the tenant saw %d JWKS requests, want 1", n)
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: moved by %v, want %v", c.what, c.got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("tenant's requests: %v", tenant.Requests())
	}
}

// TestStartupLinesAreJSON: with LOG_FORMAT=json every line linkbff writes, on stdout
// (where it listens, pprof, metrics; in development the demo logins) as on stderr
// (the log), is one JSON record, and the records say what the text lines say.
func TestStartupLinesAreJSON(t *testing.T) {
	wantJSONLines := func(t *testing.T, name, out string) []map[string]any {
		t.Helper()
		var recs []map[string]any
		for line := range strings.Lines(out) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("%s: a line is not JSON: %q", name, line)
				continue
			}
			if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
				t.Errorf("%s: a record without time, level and msg: %q", name, line)
			}
			recs = append(recs, rec)
		}
		return recs
	}
	find := func(recs []map[string]any, msg string) map[string]any {
		for _, r := range recs {
			if m, _ := r["msg"].(string); strings.HasPrefix(m, msg) {
				return r
			}
		}
		return nil
	}

	t.Run("production", func(t *testing.T) {
		tenant := devtenanttest.Start(t, devtenant.Options{})
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
		// LOG_FORMAT is json by default in production; LOG_LEVEL does not hide the startup lines.
		base := startRun(t, productionEnv(tenant, map[string]string{"DEBUG_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "LOG_LEVEL": "error"}), stdout, stderr)
		testkit.Recv(t, stdout.servingURL("metrics (METRICS_ADDR) on", "metrics listening"), "the last startup line")
		recs := wantJSONLines(t, "stdout", stdout.String())
		if r := find(recs, "linkbff listening"); r == nil || r["url"] != base || r["auth0_domain"] != tenant.URL() || r["audience"] != testAudience {
			t.Errorf("no linkbff listening record with url %s, auth0_domain and audience: %v", base, recs)
		}
		for _, msg := range []string{"pprof listening", "metrics listening"} {
			if r := find(recs, msg); r == nil || !strings.HasPrefix(r["url"].(string), "http://127.0.0.1:") {
				t.Errorf("no %q record with a url: %v", msg, recs)
			}
		}
		wantJSONLines(t, "stderr", stderr.String())
	})

	t.Run("a failure to start", func(t *testing.T) {
		env := map[string]string{"AUTH0_DOMAIN": "tenant.example", "LISTEN_ADDR": "127.0.0.1:0"} // no client id, secret or audience
		getenv := func(k string) string { return env[k] }
		err := run(t.Context(), []string{"linkbff"}, getenv, io.Discard, io.Discard)
		if err == nil {
			t.Fatal("run started without AUTH0_CLIENT_ID")
		}
		var out strings.Builder
		reportExit(&out, getenv, err)
		recs := wantJSONLines(t, "the exit", out.String())
		if len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(fmt.Sprint(recs[0]["err"]), "AUTH0_CLIENT_ID") {
			t.Errorf("exit record %v, want one ERROR naming AUTH0_CLIENT_ID", recs)
		}
		env["LOG_FORMAT"] = "text"
		out.Reset()
		reportExit(&out, getenv, err)
		if !strings.HasPrefix(out.String(), "linkbff: configuration:") {
			t.Errorf("with LOG_FORMAT=text: %q", out.String())
		}
	})

	t.Run("development", func(t *testing.T) {
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
		env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "LOG_FORMAT": "json"}
		base := startRun(t, func(k string) string { return env[k] }, stdout, stderr)
		testkit.Recv(t, stdout.lineMatching(func(line string) (string, bool) { return line, strings.Contains(line, "DEVELOPMENT MODE") }), "the development record")
		if strings.Contains(stdout.String(), "Demo logins:") {
			t.Errorf("the text banner with LOG_FORMAT=json:\n%s", stdout)
		}
		recs := wantJSONLines(t, "stdout", stdout.String())
		if r := find(recs, "linkbff listening"); r == nil || r["url"] != base {
			t.Errorf("no linkbff listening record with url %s: %v", base, recs)
		}
		dev := find(recs, "DEVELOPMENT MODE")
		if dev == nil || dev["level"] != "WARN" {
			t.Fatalf("no WARN record of the development mode: %v", recs)
		}
		logins, _ := json.Marshal(dev["demo_logins"])
		for _, want := range []string{`"email":"alice@example.com"`, `"password":"alice-password"`, `"user_id":"github|4242"`} {
			if !strings.Contains(string(logins), want) {
				t.Errorf("demo_logins lack %s: %s", want, logins)
			}
		}
		if tok, _ := dev["token_request"].(string); !strings.Contains(tok, dev["tenant_url"].(string)+"/__dev/tokens") {
			t.Errorf("token_request %q does not name the tenant's /__dev/tokens", tok)
		}
		wantJSONLines(t, "stderr", stderr.String())
	})
}

// TestBudgetWaitsByOutcome: every wait for a Management API slot is counted, by how
// it ended: granted and cancelled waits in the histogram, refusals in their counter.
func TestBudgetWaitsByOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mgmtObserver{newAppMetrics(reg)}
	o.Paced(2*time.Second, mgmt.PaceGranted)
	o.Paced(time.Millisecond, mgmt.PaceGranted)
	o.Paced(3*time.Second, mgmt.PaceCancelled)
	o.Paced(0, mgmt.PaceRefused)
	srv := httptest.NewServer(metricsHandler(reg))
	t.Cleanup(srv.Close)
	got := scrape(t, srv.Client(), srv.URL+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"linkbff_management_api_budget_wait_seconds_count", []string{"outcome", "granted"}, 2},
		{"linkbff_management_api_budget_wait_seconds_count", []string{"outcome", "cancelled"}, 1},
		{"linkbff_management_api_budget_refusals_total", nil, 1},
	} {
		if v := got.get(c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
}

// TestReadmeNamesEveryEndpoint: README's Metrics table lists the values of the
// endpoint label, which are mgmt's list of endpoints.
func TestReadmeNamesEveryEndpoint(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for line := range strings.Lines(string(readme)) {
		if strings.HasPrefix(line, "| `linkbff_management_api_requests_total` |") {
			row = line
		}
	}
	for _, ep := range mgmt.Endpoints() {
		if !strings.Contains(row, "`"+string(ep)+"`") {
			t.Errorf("README's row of linkbff_management_api_requests_total does not name the endpoint %s:\n%s", ep, row)
		}
	}
}
