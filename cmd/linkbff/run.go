package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/httprate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff"
	"github.com/linkbff/linkbff/frontend"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/budget"
	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/store/memstore"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/tracing"
	"github.com/linkbff/linkbff/internal/webauth"
)

// run is the whole program: read the configuration, build, serve until ctx ends.
// opts are for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...runOption) error {
	switch {
	case len(args) == 2 && args[1] == "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case len(args) == 2 && args[1] == "version":
		fmt.Fprintln(stdout, readBuildInfo())
		return nil
	case len(args) > 1:
		return fmt.Errorf("usage: linkbff [healthcheck|version]; linkbff is configured through the environment (see README)")
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logs := newLoggers(cfg, stderr)
	defer logs.flush()
	var hooks runHooks
	for _, o := range opts {
		o(&hooks)
	}
	// Tracing is off unless OTEL_* turns it on. Its spans are flushed once the
	// server has drained: deferred before the listener's and the tenant's Close,
	// it runs after them.
	hooks.tracing.Stdout, hooks.tracing.ServiceVersion = stdout, readBuildInfo().Version
	hooks.tracing.Logger = logs.log
	// Only a trusted proxy's traceparent is continued (tracing.Options.TrustParent).
	hooks.tracing.TrustParent = ratelimit.FromTrustedProxy(cfg.TrustedProxies)
	tr, err := tracing.Setup(ctx, getenv, hooks.tracing)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if tr != nil {
		logs = logs.traced()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
			defer cancel()
			if err := tr.Shutdown(sctx); err != nil {
				logs.log.Warn("tracing: spans not exported at shutdown", "err", err)
			}
		}()
	}
	log := logs.log
	out := newStartupLines(cfg, stdout)
	for _, w := range cfg.Weakened() {
		log.Warn("insecure setting: a check is weakened", "variable", w.Variable, "setting", w.Reason, "allowed_by", allowedBy(cfg))
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	// The listeners of their own too, now: an address in use fails the start before
	// anything is announced or Auth0 is asked. serveAside's stop closes them once
	// they serve; these close them on an earlier return.
	debugLn, err := listenAside("DEBUG_ADDR", cfg.DebugAddr)
	if err != nil {
		return err
	}
	if debugLn != nil {
		defer debugLn.Close()
	}
	metricsLn, err := listenAside("METRICS_ADDR", cfg.MetricsAddr)
	if err != nil {
		return err
	}
	if metricsLn != nil {
		defer metricsLn.Close()
	}
	listenURL := "http://" + publicAddr(ln.Addr())
	if cfg.BaseURL == "" {
		cfg.BaseURL = listenURL
	}

	var dev devMode
	if cfg.Dev {
		if dev, err = startDevTenant(&cfg); err != nil {
			return err
		}
		defer dev.Close()
	}

	// One Redis client for all the state replicas share, closed after the server.
	var rdb *redis.Client
	if cfg.RedisURL != "" {
		if rdb, err = redisstore.NewClient(cfg.RedisURL); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		defer rdb.Close()
	}

	var draining atomic.Bool
	svc, err := assemble(cfg, logs, rdb, &draining, hooks.now, tr)
	if err != nil {
		return err
	}
	// Before serving, so that the first lines of the log say whether Auth0 accepts
	// this configuration; a failure is reported, not fatal (Auth0 may be briefly
	// unreachable), and /readyz keeps telling until it is fixed.
	checkAuth0(ctx, log, cfg, svc)
	printBanner(out, cfg, listenURL, dev)
	if debugLn != nil {
		defer serveAside("DEBUG_ADDR", debugLn, debugHandler(), 0, log)()
		out.serving("pprof (DEBUG_ADDR) on", "pprof listening", "http://"+publicAddr(debugLn.Addr())+"/debug/pprof/")
	}
	if metricsLn != nil {
		defer serveAside("METRICS_ADDR", metricsLn, metricsHandler(svc.metrics), metricsWriteTimeout, log)()
		out.serving("metrics (METRICS_ADDR) on", "metrics listening", "http://"+publicAddr(metricsLn.Addr())+"/metrics")
	}

	srv := &http.Server{
		Handler:           svc.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return serve(ctx, log, srv, ln, drainPlan{
		draining: &draining,
		delay:    cfg.ShutdownDrainDelay,
		timeout:  cfg.ShutdownTimeout,
		after:    time.After,
	})
}

// runHooks are what tests change in how run builds linkbff.
type runHooks struct {
	// tracing is what run gives tracing.Setup (a test's in-memory exporter).
	tracing tracing.Options
	// now, when not nil, is the clock of the login-age rule (REAUTH_MAX_AGE): a test
	// moves it, so that a login turns old at once instead of after minutes of waiting.
	now func() time.Time
}

// runOption sets a hook of run.
type runOption func(*runHooks)

// withClock makes now the clock of the login-age rule.
func withClock(now func() time.Time) runOption {
	return func(h *runHooks) { h.now = now }
}

// tracingShutdownTimeout bounds the export of the spans left at shutdown, after
// the server has drained: a collector that is down must not hold the process.
const tracingShutdownTimeout = 5 * time.Second

// devMode is the embedded development tenant, as run uses it (devtenant.go; absent
// from a binary built with -tags nodevtenant).
type devMode interface {
	Close() error
	// banner is the text of printBanner; record the same as one log record.
	banner(w io.Writer, cfg config.Config)
	record(log *slog.Logger, cfg config.Config)
}

// printBanner tells a person where linkbff listens (and its public URL when BASE_URL
// names another, as behind a proxy) and, in development, how to sign in; with
// LOG_FORMAT=json, as JSON records.
func printBanner(out startupLines, cfg config.Config, listenURL string, dev devMode) {
	if out.json != nil {
		attrs := []any{"url", listenURL}
		if cfg.BaseURL != listenURL {
			attrs = append(attrs, "base_url", cfg.BaseURL)
		}
		if dev == nil {
			attrs = append(attrs, "auth0_domain", cfg.Auth0URL, "audience", cfg.Audience)
		}
		out.json.Info("linkbff listening", attrs...)
		if dev != nil {
			dev.record(out.json, cfg)
		}
		return
	}
	w := out.w
	fmt.Fprintf(w, "linkbff listening on %s\n", listenURL)
	if cfg.BaseURL != listenURL {
		fmt.Fprintf(w, "public URL (BASE_URL): %s\n", cfg.BaseURL)
	}
	if dev == nil {
		fmt.Fprintf(w, "Auth0 tenant: %s (audience %s)\n", cfg.Auth0URL, cfg.Audience)
		return
	}
	dev.banner(w, cfg)
}

// drainPlan is how serve shuts down: readiness false at once, then delay of
// serving as usual (the load balancer's time to notice), then at most timeout for
// the requests in flight. after is time.After; tests pass their own.
type drainPlan struct {
	draining *atomic.Bool
	delay    time.Duration
	timeout  time.Duration
	after    func(time.Duration) <-chan time.Time
}

// serve serves on ln until ctx ends, then drains as plan says.
func serve(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener, plan drainPlan) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	plan.draining.Store(true)
	if plan.delay > 0 {
		log.Info("draining: /readyz answers 503, requests are still served", "delay", plan.delay)
		select {
		case <-plan.after(plan.delay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down", "deadline", plan.timeout)
	sctx, cancel := context.WithTimeout(context.Background(), plan.timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// service is linkbff wired: its handler, the Auth0 clients the startup checks use,
// and its metrics.
type service struct {
	handler  http.Handler
	keys     *auth.KeySource
	upstream *mgmt.Client
	metrics  *prometheus.Registry
}

// assemble wires the service. rdb is nil without REDIS_URL; draining, when not
// nil, makes /readyz fail once it is set (see serve); now, when not nil, is the clock
// of the login-age rule (see withClock); tr is nil with tracing off.
func assemble(cfg config.Config, logs loggers, rdb *redis.Client, draining *atomic.Bool, now func() time.Time, tr *tracing.Tracing) (service, error) {
	log := logs.log
	reg := prometheus.NewRegistry()
	metrics := newAppMetrics(reg)
	// The JWKS is the same at the canonical and the custom domain.
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: cfg.Issuer(), OnFetch: metrics.jwksFetch})
	if err != nil {
		return service{}, err
	}
	issuers := cfg.Issuers()
	tokenCache := cfg.TokenCacheBytes
	if tokenCache == 0 {
		tokenCache = -1 // off
	}
	bearer, err := auth.NewBearer(auth.BearerConfig{
		Issuer:         issuers[0],
		ExtraIssuers:   issuers[1:],
		Audience:       cfg.Audience,
		Keys:           keys,
		AllowedClients: cfg.AllowedClientIDs,
		CacheBytes:     tokenCache,
		OnCacheLookup:  metrics.tokenCacheLookup,
		OnError:        server.WriteProblem,
	})
	if err != nil {
		return service{}, err
	}
	var (
		sessions scs.Store        // nil: in memory
		registry webauth.Registry // nil: in memory, beside the sessions
	)
	if rdb != nil {
		sessions = goredisstore.NewWithPrefix(rdb, cfg.RedisKeyPrefix+"session:")
		registry = redisstore.NewRegistry(rdb, redisstore.Options{Prefix: cfg.RedisKeyPrefix})
	}
	web, err := webauth.New(webauth.Config{
		BaseURL: cfg.BaseURL,
		// Browsers sign in at the custom domain when there is one; the ID token of
		// that login carries its issuer.
		Issuer:               cfg.LoginIssuer(),
		ClientID:             cfg.ClientID,
		ClientSecret:         cfg.ClientSecret,
		ClientSecretPrevious: cfg.ClientSecretPrevious,
		Keys:                 keys,
		SessionScopes:        []string{cfg.ScopeRead, cfg.ScopeWrite},
		IdleTimeout:          cfg.SessionIdleTimeout,
		Lifetime:             cfg.SessionLifetime,
		Store:                sessions,
		Registry:             registry,
		HTTPClient:           &http.Client{Timeout: cfg.UpstreamTimeout},
		OnError:              server.WriteProblem,
	})
	if err != nil {
		return service{}, err
	}
	// One Management API budget for every replica: in Redis when they share one.
	var mgmtBudget mgmt.Budget
	if rdb != nil {
		mgmtBudget, err = budget.NewRedis(rdb, cfg.RedisKeyPrefix+"mgmt-budget", cfg.ManagementAPIRPS, func(err error) {
			if err != nil {
				log.Warn("Management API budget", "err", err)
			} else {
				log.Info("Management API budget shared through Redis again")
			}
		})
	} else {
		mgmtBudget, err = budget.NewLocal(cfg.ManagementAPIRPS)
	}
	if err != nil {
		return service{}, err
	}
	app := cfg.Management()
	var wrapMgmt func(http.RoundTripper) http.RoundTripper
	if tr != nil {
		wrapMgmt = func(rt http.RoundTripper) http.RoundTripper {
			return tr.Transport(rt, "auth0.management", mgmt.Operation)
		}
	}
	upstream, err := mgmt.New(mgmt.Config{
		// The canonical domain: a token from it is only valid at it, and the
		// Management API's audience is always the canonical one.
		Domain:               cfg.Auth0URL,
		ClientID:             app.ClientID,
		ClientSecret:         app.ClientSecret,
		PreviousClientSecret: app.PreviousSecret,
		Audience:             cfg.ManagementAudience,
		CallTimeout:          cfg.UpstreamTimeout,
		Budget:               mgmtBudget,
		Observer:             mgmtObserver{metrics},
		WrapTransport:        wrapMgmt,
	})
	if err != nil {
		return service{}, err
	}
	verifier := auth.NewIDTokenVerifier(auth.IDTokenVerifierConfig{
		Keys:         keys,
		Issuer:       issuers[0],
		ExtraIssuers: issuers[1:],
		Audiences:    append([]string{cfg.ClientID}, cfg.LinkAllowedAudiences...),
	})
	ready := map[string]func(context.Context) error{
		"auth0": func(ctx context.Context) error {
			_, err := keys.Keys(ctx, "")
			return err
		},
		"auth0_management": func(ctx context.Context) error {
			err := upstream.Ready(ctx)
			if _, refused := errors.AsType[*mgmt.CredentialsError](err); refused {
				return server.NotReady("refused", err)
			}
			return err
		},
	}
	if draining != nil {
		ready["shutdown"] = func(context.Context) error {
			if draining.Load() {
				return server.NotReady("draining", errors.New("shutting down"))
			}
			return nil
		}
	}
	var store identity.Store = memstore.New(memstore.Options{MaxViewBytes: cfg.IdentityCacheBytes})
	if rdb != nil {
		rs := redisstore.New(rdb, redisstore.Options{
			Prefix: cfg.RedisKeyPrefix,
			// A hold must outlive the longest link or unlink, which the request
			// deadline bounds.
			LockTTL: max(redisstore.DefaultLockTTL, 2*cfg.RequestTimeout),
		})
		store, ready["redis"] = rs, rs.Ping
	}
	svc := identity.New(identity.Config{
		ClientID:             linkWithClientID(cfg),
		MaxAge:               cfg.LinkMaxAge,
		RequireVerifiedEmail: cfg.LinkRequireVerifiedEmail,
		RequireNonce:         cfg.LinkRequireNonce,
		NonceTTL:             cfg.LinkNonceTTL,
		CacheTTL:             cfg.IdentityCacheTTL,
		EndSessions:          web.EndUserSessions,
		OnCacheLookup:        metrics.identityCacheLookup,
		OnOutcome:            metrics.outcome,
	}, upstream, verifier, store)
	suggestions := identity.NewSuggester(svc, upstream, identity.SuggestConfig{})

	info := readBuildInfo()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "linkbff_management_api_ratelimit_remaining",
			Help: "The last x-ratelimit-remaining the Auth0 Management API reported (-1 before the first call).",
		}, func() float64 {
			if n, ok := upstream.RateLimitRemaining(); ok {
				return float64(n)
			}
			return -1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "linkbff_build_info",
			Help:        "Always 1; the labels say which linkbff build runs.",
			ConstLabels: prometheus.Labels{"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion},
		}, func() float64 { return 1 }),
	)

	limits := ratelimit.Config{
		UserWrites:     cfg.RateLimits.UserWrites,
		UserReads:      cfg.RateLimits.UserReads,
		IPWrites:       cfg.RateLimits.IPWrites,
		IPReads:        cfg.RateLimits.IPReads,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         log,
		OnError:        server.WriteProblem,
	}
	if rdb != nil {
		// Every limit is counted in Redis, shared by the replicas, under one
		// prefix; the counter keys tell the limits apart.
		limits.NewCounter = func() httprate.LimitCounter {
			return redisstore.NewRateCounter(rdb, cfg.RedisKeyPrefix+"rate:")
		}
	}

	var readScope, writeScope string
	if cfg.RequireScopes {
		readScope, writeScope = cfg.ScopeRead, cfg.ScopeWrite
	}
	handler := server.New(server.Config{
		RequestTimeout:     cfg.RequestTimeout,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		ReadScope:          readScope,
		WriteScope:         writeScope,
		ReauthMaxAge:       cfg.ReauthMaxAge,
		AuthTimeClaim:      cfg.ReauthAuthTimeClaim,
		Now:                now,
		MetricsElsewhere:   cfg.MetricsAddr != "",
		Client: server.ClientConfig{
			Domain:               cfg.LoginURL(),
			Tenant:               cfg.LockTenant(),
			ConfigurationBaseURL: cfg.LockConfigurationBaseURL,
			ClientID:             cfg.ClientID,
			Issuer:               cfg.LoginIssuer(),
			Audience:             cfg.Audience,
			Connections:          cfg.LinkConnections,
		},
	}, server.Deps{
		Logger:      log,
		AccessLog:   logs.access,
		Identities:  svc,
		Suggestions: suggestions,
		Bearer:      bearer,
		Web:         web,
		Ready:       ready,
		OpenAPI:     linkbff.OpenAPISpecFor(cfg.LoginURL()),
		Frontend:    frontend.Files(),
		Metrics:     reg,
		Limits:      ratelimit.New(limits),
		Tracing:     tr,
	})
	return service{handler: handler, keys: keys, upstream: upstream, metrics: reg}, nil
}

// linkWithClientID is the client id whose ID tokens linkbff passes to Auth0 as
// {link_with}: Auth0 accepts one only when its aud is the azp of the Management API
// token, that is, when the BFF's application also holds the Management API grant.
// With a separate Machine-to-Machine application no ID token is for it, and with a
// custom domain the ID tokens browsers get carry the custom domain's issuer while
// Auth0 wants link_with's issuer to be the calling token's (canonical) one. In both
// cases "" makes every link use {provider, user_id}, after linkbff verified the
// token itself.
func linkWithClientID(cfg config.Config) string {
	if cfg.Management().Separate || len(cfg.Issuers()) > 1 {
		return ""
	}
	return cfg.ClientID
}

// checkAuth0 fetches the signing keys and a Management API token, at once, and logs
// what is wrong with either in terms of the variables to fix. It never fails: linkbff
// starts when Auth0 is briefly unreachable, and /readyz says when it is ready.
func checkAuth0(ctx context.Context, log *slog.Logger, cfg config.Config, svc service) {
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, cfg.UpstreamTimeout)
		defer cancel()
		jwks := cfg.Issuer() + ".well-known/jwks.json"
		if _, err := svc.keys.Keys(ctx, ""); err != nil {
			log.Error("cannot fetch Auth0's signing keys: check AUTH0_DOMAIN and that this host reaches it (HTTPS_PROXY, NO_PROXY); bearer tokens and sign-ins fail until it works",
				"jwks_uri", jwks, "err", err)
			return
		}
		log.Info("Auth0 signing keys fetched", "jwks_uri", jwks)
	})
	wg.Go(func() {
		app := cfg.Management()
		if err := svc.upstream.CheckToken(ctx); err != nil {
			log.Error(describeTokenFailure(cfg, err), "client_id", app.ClientID, "audience", cfg.ManagementAudience, "err", err)
			return
		}
		log.Info("Management API token obtained", "client_id", app.ClientID, "audience", cfg.ManagementAudience)
	})
	wg.Wait()
}

// describeTokenFailure says which setting to fix when the Management API token
// cannot be had.
func describeTokenFailure(cfg config.Config, err error) string {
	idVar, secretVar, where := "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "the BFF's application"
	if cfg.Management().Separate {
		idVar, secretVar, where = "AUTH0_MANAGEMENT_CLIENT_ID", "AUTH0_MANAGEMENT_CLIENT_SECRET", "the Machine-to-Machine application"
	}
	ce, ok := errors.AsType[*mgmt.CredentialsError](err)
	if !ok {
		return "cannot get a Management API token: Auth0's token endpoint gave no usable answer; linkbff keeps trying, and /readyz fails until a first token is had (check AUTH0_DOMAIN, HTTPS_PROXY, NO_PROXY)"
	}
	said := ce.Code
	if ce.Description != "" {
		said += "/" + ce.Description
	}
	switch ce.Refusal() {
	case mgmt.RefusedClient:
		return fmt.Sprintf("%s (or %s) was refused by Auth0: %s; /readyz fails until it is fixed", secretVar, idVar, said)
	case mgmt.RefusedGrant:
		return fmt.Sprintf("%s (%s) may not use the Client Credentials grant: %s; enable it under Advanced Settings, Grant Types", where, idVar, said)
	case mgmt.RefusedAudience:
		return fmt.Sprintf("%s (%s) is not authorized for the Management API audience AUTH0_MANAGEMENT_AUDIENCE, or that audience is wrong: %s; "+
			"authorize it under APIs, Auth0 Management API, Machine to Machine Applications, with read:users and update:users", where, idVar, said)
	default:
		return fmt.Sprintf("Auth0 refused the Management API token request of %s (%s): %s", where, idVar, said)
	}
}

// allowedBy names what lets weakened settings run.
func allowedBy(cfg config.Config) string {
	if cfg.Dev {
		return "development mode"
	}
	return "LINKBFF_ALLOW_INSECURE"
}

// healthcheck asks a running linkbff on this host for /healthz: the container
// HEALTHCHECK, which must work without a shell or curl in the image.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := getenv("LISTEN_ADDR")
	if addr == "" {
		addr = config.DefaultListenAddr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: LISTEN_ADDR %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", res.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// publicAddr turns a listen address into one a browser can use (":3000" -> "localhost:3000").
func publicAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
