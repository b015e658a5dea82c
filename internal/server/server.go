// Package server wires linkbff's HTTP surface: every route (routes.go), the
// middleware chain, and the handlers that translate between the API contract
// (package api, generated from openapi.yaml) and the identity service.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/tracing"
	"github.com/linkbff/linkbff/internal/webauth"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	RequestTimeout     time.Duration
	CORSAllowedOrigins []string
	// ReadScope is the scope GET /me/identities needs, WriteScope the one the nonce,
	// link and unlink need; "" requires none. A principal has the scopes its access
	// token was granted (a browser session has both).
	ReadScope, WriteScope string
	// Client is what the page needs to start Auth0 Lock (GET /config.json).
	Client ClientConfig
	// ReauthMaxAge is how recent the login behind a link or unlink must be
	// (REAUTH_MAX_AGE); 0 turns the rule off. AuthTimeClaim is the claim of a bearer
	// token that holds its login time ("auth_time" when empty).
	ReauthMaxAge  time.Duration
	AuthTimeClaim string
	// Now is the clock of the login-age rule (time.Now when nil).
	Now func() time.Time
	// MetricsElsewhere leaves GET /metrics out of the routes, so that it answers 404
	// like any unknown path: a listener of its own serves the metrics (METRICS_ADDR).
	MetricsElsewhere bool
}

// ClientConfig describes the tenant and application to the browser. Nothing in it is
// secret.
type ClientConfig struct {
	Domain string // base URL of the tenant, with scheme
	// Tenant is the tenant's name, for Lock's overrides.__tenant when Domain is a
	// custom domain (Lock reads it from the first label of Domain otherwise).
	Tenant string
	// ConfigurationBaseURL is where Lock loads the client configuration from.
	ConfigurationBaseURL string
	ClientID             string
	Issuer               string
	Audience             string
	// Connections are the connections the page lets Lock offer; empty means every
	// connection the client has enabled.
	Connections []string
}

// Identities is the identity service as the handlers use it.
type Identities interface {
	List(ctx context.Context, userID string) (identity.View, error)
	NewIntent(ctx context.Context, userID string) (identity.Intent, error)
	Link(ctx context.Context, userID, linkToken string) (identity.View, error)
	Unlink(ctx context.Context, userID, provider, identityUserID string) (identity.View, error)
}

// Deps are the server's collaborators.
type Deps struct {
	Logger *slog.Logger
	// AccessLog writes the one "request" line per request (nil: through Logger):
	// linkbff writes it as JSON by hand (reqlog.JSONAccess) into a buffered output.
	AccessLog  reqlog.AccessLog
	Identities Identities
	// Suggestions answers GET /me/identities/suggestions; nil answers 404.
	Suggestions Suggester
	Bearer      *auth.Bearer
	// Web is the browser half: the /auth routes and the session cookie on /me/*.
	// Nil serves the API to bearer tokens only.
	Web *webauth.Web
	// Ready are the checks /readyz runs, by name ("auth0", "redis", ...): the
	// process can serve when each returns nil. A *NotReadyError names its state.
	Ready    map[string]func(ctx context.Context) error
	OpenAPI  []byte
	Frontend fs.FS
	// Metrics is where request metrics are registered and what /metrics serves;
	// nil means a fresh registry.
	Metrics *prometheus.Registry
	// Limits are the abuse limits of /me/* and tell who the client is; nil limits
	// nothing and takes the client from the connection.
	Limits *ratelimit.Limits
	// Tracing, when not nil, puts each request in a server span named by its
	// route, and binds the request's log records to it; nil (tracing off) installs
	// nothing of it.
	Tracing *tracing.Tracing
}

type server struct {
	hdr         headerValues
	metrics     *httpMetrics
	metricsHTTP http.Handler // serves GET /metrics from deps.Metrics
	cfg         Config
	deps        Deps
}

// New returns linkbff's HTTP handler.
func New(cfg Config, deps Deps) http.Handler {
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	if cfg.AuthTimeClaim == "" {
		cfg.AuthTimeClaim = "auth_time"
	}
	if deps.AccessLog == nil {
		deps.AccessLog = reqlog.SlogAccess{Logger: deps.Logger}
	}
	if deps.Limits == nil {
		deps.Limits = ratelimit.New(ratelimit.Config{})
	}
	s := &server{cfg: cfg, deps: deps, hdr: newHeaderValues(), metrics: newHTTPMetrics(deps.Metrics), metricsHTTP: metricsHandler(deps.Metrics)}
	if deps.Tracing != nil {
		return deps.Tracing.Handler(s.routes())
	}
	return s.routes()
}

// now is the server's clock.
func (s *server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// fail writes err as a problem (see WriteProblem).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) { WriteProblem(w, r, err) }

// WriteProblem writes err as an application/problem+json response and logs it once
// with the request's logger: server errors with their hidden cause at error level,
// client errors at debug level.
//
// Every 401 carries a challenge (RFC 9110 §15.5.2): one that decided to answer 401
// without saying how (the identity rules refusing a credential that names no Auth0
// user) gets the invalid_token one.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.From(err)
	if p.Status() == http.StatusUnauthorized && p.Header.Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="linkbff", error="invalid_token"`)
	}
	problem.Write(w, requestID(w), p)
	tracing.MarkProblem(r.Context(), string(p.Fault.Code))
	log := reqlog.From(r.Context())
	status := p.Status()
	if status >= 500 {
		log.Error("request failed", "code", string(p.Fault.Code), "status", status, "err", p.Error())
	} else {
		log.Debug("request refused", "code", string(p.Fault.Code), "status", status, "err", p.Error())
	}
}
