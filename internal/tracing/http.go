package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Handler wraps h, the whole router, in the server span of each request. The span
// starts named by the method alone: the route is known only once the router has
// matched it, and NameServerSpan names the span then. otelhttp records the status
// code, and marks a 5xx answer as an error.
//
// The trace context a request carries (traceparent, as OTEL_PROPAGATORS says) is
// continued only when Options.TrustParent trusts the request (it came from a
// trusted reverse proxy): anyone else could pick the trace id linkbff's spans land
// in, mixing them into another trace or forcing them sampled. Any other request
// starts a new trace, with a link to the context it sent, so that the caller's
// trace can still be found from it.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "",
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithPublicEndpointFn(func(r *http.Request) bool { return !t.trustParent(r) }),
		// Request metrics are Prometheus' (internal/server/metrics.go).
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return method(r.Method) }),
	)
}

// NameServerSpan names the server span of ctx after the route that served the
// request ("GET /me/identities/{provider}/{user_id}", never the path, which names
// users), and records the route (http.route, and url.path too, which otelhttp set
// to the path) and clientAddr, the client as linkbff resolved it (otelhttp takes
// the first X-Forwarded-For address, which anyone can write). route "" (no route
// matched: a 404 or 405) leaves the name the method and sets url.path to
// "unmatched", as the request metrics label it: the path of a 405 may well name a
// user (GET /me/identities/github/4242). url.path is the only attribute otelhttp
// gives the path or target (no url.full, http.target or url.query on a server
// span). Without a recording span it does nothing.
func NameServerSpan(ctx context.Context, httpMethod, route, clientAddr string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if route != "" {
		span.SetName(method(httpMethod) + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.String("url.path", route))
	} else {
		span.SetAttributes(attribute.String("url.path", "unmatched"))
	}
	if clientAddr != "" {
		span.SetAttributes(attribute.String("client.address", clientAddr))
	}
}

// MarkProblem records on the server span of ctx the code of the problem a request
// was answered with (linkbff.problem.code): a 4xx is not an error of the server's,
// but which refusal it was is what a trace is read for.
func MarkProblem(ctx context.Context, code string) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("linkbff.problem.code", code))
	}
}

// method is the method as a span name may carry it: a client may send any token.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "HTTP"
}

// Operation names an upstream request for its span, and gives the request's path
// as a template ("/api/v2/users/{id}"), without the identifiers it carries; ""
// when it does not know the request.
type Operation func(r *http.Request) (name, pathTemplate string)

// Transport wraps base in the client span of each request: named system + " " +
// the operation's name ("auth0.management get_user"), a child of the span of the
// request's context. The span's url.full is scheme, host and the path template:
// the real path and query name users (a user id, an email address). The request's
// headers, the access token among them, are never recorded.
//
// No trace context is sent upstream: the third party (Auth0) takes no part in
// linkbff's traces, and baggage, which a client of linkbff may have set, is not
// linkbff's to forward. The request goes out exactly as it would without tracing.
func (t *Tracing) Transport(base http.RoundTripper, system string, op Operation) http.RoundTripper {
	return otelhttp.NewTransport(redactURL{base: base, op: op},
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()), // none: see above
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			name, _ := op(r)
			if name == "" {
				name = "request"
			}
			return system + " " + name
		}),
	)
}

// redactURL is the transport under otelhttp's: by the time it runs, otelhttp has
// recorded the request's attributes on the span, and it replaces url.full with
// the redacted one before the request leaves.
type redactURL struct {
	base http.RoundTripper
	op   Operation
}

func (t redactURL) RoundTrip(r *http.Request) (*http.Response, error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		_, tmpl := t.op(r)
		if tmpl == "" {
			tmpl = "/…"
		}
		span.SetAttributes(attribute.String("url.full", r.URL.Scheme+"://"+r.URL.Host+tmpl))
	}
	return t.base.RoundTrip(r)
}
