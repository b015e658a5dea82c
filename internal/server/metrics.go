package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the request metrics. Routes are labelled by their pattern, never by
// the raw path, and methods outside the standard set by "OTHER" (Go accepts any token
// as a method), so label cardinality stays bounded.
//
// Looking a series up by its label values hashes them and, for the status, formats
// a number, on every request; so each (route, method, status) resolves its counter
// and histogram once and keeps them in series. That map is as bounded as the labels.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu     sync.RWMutex
	series map[seriesKey]seriesObservers
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesObservers struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkbff_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "linkbff_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"route", "method"}),
		series: map[seriesKey]seriesObservers{},
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	k := seriesKey{route, metricMethod(method), status}
	m.mu.RLock()
	o, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		o = seriesObservers{
			requests: m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(k.route, k.method),
		}
		m.mu.Lock()
		m.series[k] = o
		m.mu.Unlock()
	}
	o.requests.Inc()
	o.duration.Observe(d.Seconds())
}

// metricMethod is method as a label value: one of the methods an HTTP API uses, or
// "OTHER", so a client cannot create a series per made-up method.
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
