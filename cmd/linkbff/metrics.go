package main

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/problem"
)

// appMetrics are linkbff's metrics beyond the HTTP ones (internal/server): the
// Management API, the JWKS, the two caches and the outcomes of links and unlinks.
// The packages that do the work know nothing of Prometheus: each takes an observer
// or a callback (nil: off), and these adapt them to collectors. README's Metrics
// section lists every series.
//
// The cache callbacks run on every request of the hot path (a cached token and a
// cached identity list), so their series are resolved here once: a lookup costs an
// atomic add, no label hashing and no allocation.
type appMetrics struct {
	mgmtRequests    *prometheus.CounterVec
	mgmtDuration    *prometheus.HistogramVec
	mgmtLimited     *prometheus.CounterVec
	mgmtRetries     *prometheus.CounterVec
	tokenFetches    *prometheus.CounterVec
	budgetGranted   prometheus.Observer // the wait of a request that got its slot
	budgetCancelled prometheus.Observer // of one whose caller went away first
	budgetRefusals  prometheus.Counter
	outcomes        *prometheus.CounterVec

	jwksOK, jwksFailed                         prometheus.Counter
	tokenHit, tokenMiss                        prometheus.Counter
	identityHit, identityMiss, identityFailure prometheus.Counter

	codes []fault.Code // problem's table, sorted: the outcomes a link or unlink can have
}

func newAppMetrics(reg prometheus.Registerer) *appMetrics {
	m := &appMetrics{
		mgmtRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_management_api_requests_total",
			Help: `Requests to Auth0's Management API and its token endpoint, by endpoint (` + endpointNames() + `) and status code ("error": no answer).`,
		}, []string{"endpoint", "status"}),
		mgmtDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "linkbff_management_api_request_duration_seconds",
			Help:    "Latency of requests to Auth0's Management API and its token endpoint, until the answer was read, by endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		mgmtLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_management_api_rate_limited_total",
			Help: "Answers 429 (Too Many Requests) from Auth0's Management API, by endpoint.",
		}, []string{"endpoint"}),
		mgmtRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_management_api_retries_total",
			Help: "Management API requests sent again, by endpoint and reason (rate_limited: after a 429; token_renewed: after a 401, with a fresh token).",
		}, []string{"endpoint", "reason"}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_management_api_token_fetches_total",
			Help: "Management API token fetches (client credentials) by result: ok, refused (Auth0 refused the credentials), error.",
		}, []string{"result"}),
		budgetRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "linkbff_management_api_budget_refusals_total",
			Help: "Management API requests not sent because their slot came after their deadline (answered 503 upstream_rate_limited).",
		}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_link_outcomes_total",
			Help: `Links and unlinks by operation (` + identity.OperationLink + `, ` + identity.OperationUnlink + `) and outcome: "ok", or the problem code of the failure.`,
		}, []string{"operation", "outcome"}),
		codes: problem.Codes(),
	}
	budgetWait := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "linkbff_management_api_budget_wait_seconds",
		Help: "How long Management API requests waited for their slot of the request budget (MANAGEMENT_API_RPS) and Auth0's rate-limit headers, " +
			"by outcome (granted: the slot came; cancelled: the request's context ended first, and it was not sent).",
		Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"outcome"})
	m.budgetGranted = budgetWait.WithLabelValues(mgmt.PaceGranted)
	m.budgetCancelled = budgetWait.WithLabelValues(mgmt.PaceCancelled)
	jwks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linkbff_jwks_refreshes_total",
		Help: "Requests for the tenant's signing keys (JWKS) by result: ok, error (no answer, or not 2xx).",
	}, []string{"result"})
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linkbff_cache_requests_total",
		Help: "Cache lookups by cache (token: validated access tokens; identity: identity lists) and result (hit, miss; error: the identity cache did not answer).",
	}, []string{"cache", "result"})
	m.jwksOK, m.jwksFailed = jwks.WithLabelValues("ok"), jwks.WithLabelValues("error")
	m.tokenHit, m.tokenMiss = cache.WithLabelValues("token", "hit"), cache.WithLabelValues("token", "miss")
	m.identityHit = cache.WithLabelValues("identity", identity.CacheHit)
	m.identityMiss = cache.WithLabelValues("identity", identity.CacheMiss)
	m.identityFailure = cache.WithLabelValues("identity", identity.CacheError)
	for _, r := range []string{mgmt.TokenOK, mgmt.TokenRefused, mgmt.TokenFailed} {
		m.tokenFetches.WithLabelValues(r)
	}
	for _, op := range []string{identity.OperationLink, identity.OperationUnlink} {
		m.outcomes.WithLabelValues(op, "ok")
	}
	reg.MustRegister(m.mgmtRequests, m.mgmtDuration, m.mgmtLimited, m.mgmtRetries, m.tokenFetches,
		budgetWait, m.budgetRefusals, m.outcomes, jwks, cache)
	return m
}

// endpointNames lists the values of the endpoint label, from mgmt's one list.
func endpointNames() string {
	var names []string
	for _, ep := range mgmt.Endpoints() {
		names = append(names, string(ep))
	}
	return strings.Join(names, ", ")
}

// jwksFetch is auth.KeySourceConfig.OnFetch.
func (m *appMetrics) jwksFetch(err error) {
	if err != nil {
		m.jwksFailed.Inc()
		return
	}
	m.jwksOK.Inc()
}

// tokenCacheLookup is auth.BearerConfig.OnCacheLookup.
func (m *appMetrics) tokenCacheLookup(hit bool) {
	if hit {
		m.tokenHit.Inc()
		return
	}
	m.tokenMiss.Inc()
}

// identityCacheLookup is identity.Config.OnCacheLookup.
func (m *appMetrics) identityCacheLookup(result string) {
	switch result {
	case identity.CacheHit:
		m.identityHit.Inc()
	case identity.CacheMiss:
		m.identityMiss.Inc()
	default:
		m.identityFailure.Inc()
	}
}

// outcome is identity.Config.OnOutcome. A code outside problem's table (none is)
// would be counted as internal_error, so the label stays within a known set.
func (m *appMetrics) outcome(operation string, code fault.Code) {
	label := "ok"
	if code != "" {
		label = string(fault.Internal)
		if _, known := slices.BinarySearch(m.codes, code); known {
			label = string(code)
		}
	}
	m.outcomes.WithLabelValues(operation, label).Inc()
}

// mgmtObserver is the mgmt.Observer that counts into m.
type mgmtObserver struct{ m *appMetrics }

func (o mgmtObserver) Request(ep mgmt.Endpoint, status int, took time.Duration) {
	label := "error"
	if status > 0 {
		label = strconv.Itoa(status)
	}
	o.m.mgmtRequests.WithLabelValues(string(ep), label).Inc()
	o.m.mgmtDuration.WithLabelValues(string(ep)).Observe(took.Seconds())
	if status == http.StatusTooManyRequests {
		o.m.mgmtLimited.WithLabelValues(string(ep)).Inc()
	}
}

func (o mgmtObserver) Retry(ep mgmt.Endpoint, reason string) {
	o.m.mgmtRetries.WithLabelValues(string(ep), reason).Inc()
}

func (o mgmtObserver) TokenFetch(result string) { o.m.tokenFetches.WithLabelValues(result).Inc() }

func (o mgmtObserver) Paced(waited time.Duration, outcome string) {
	switch outcome {
	case mgmt.PaceRefused:
		o.m.budgetRefusals.Inc()
	case mgmt.PaceCancelled:
		o.m.budgetCancelled.Observe(waited.Seconds())
	default:
		o.m.budgetGranted.Observe(waited.Seconds())
	}
}

// metricsHandler serves reg's metrics at /metrics, on METRICS_ADDR (serveAside;
// the main listener then answers 404 there).
func metricsHandler(reg prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// metricsWriteTimeout bounds the writing of one scrape.
const metricsWriteTimeout = 30 * time.Second
