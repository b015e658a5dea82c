package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff"
	"github.com/linkbff/linkbff/frontend"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/budget"
	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/store/memstore"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/webauth"
)

// run is the whole program: read the configuration, build, serve until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 2 && args[1] == "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case len(args) > 1:
		return fmt.Errorf("usage: linkbff [healthcheck]; linkbff is configured through the environment (see README)")
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logs := newLoggers(cfg, stderr)
	defer logs.flush()
	log := logs.log

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	listenURL := "http://" + publicAddr(ln.Addr())
	if cfg.BaseURL == "" {
		cfg.BaseURL = listenURL
	}

	var (
		tenant *devtenant.Tenant
		seed   devtenant.Seed
	)
	if cfg.Dev {
		tenant, seed, err = startDevTenant(&cfg, getenv("DEVTENANT_ADDR"))
		if err != nil {
			return err
		}
		defer tenant.Close()
	}

	// One Redis client for all the state replicas share, closed after the server.
	var rdb *redis.Client
	if cfg.RedisURL != "" {
		if rdb, err = redisstore.NewClient(cfg.RedisURL); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		defer rdb.Close()
	}

	handler, err := build(cfg, logs, rdb)
	if err != nil {
		return err
	}
	printBanner(stdout, cfg, listenURL, tenant, seed)
	if cfg.DebugAddr != "" {
		debugURL, stop, err := startDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "pprof (DEBUG_ADDR) on %s\n", debugURL)
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// build wires the service from the configuration. rdb is nil without REDIS_URL.
func build(cfg config.Config, logs loggers, rdb *redis.Client) (http.Handler, error) {
	log := logs.log
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: cfg.Issuer()})
	if err != nil {
		return nil, err
	}
	tokenCache := cfg.TokenCacheBytes
	if tokenCache == 0 {
		tokenCache = -1 // off
	}
	bearer, err := auth.NewBearer(auth.BearerConfig{
		Issuer:     cfg.Issuer(),
		Audience:   cfg.Audience,
		Keys:       keys,
		CacheBytes: tokenCache,
		OnError:    server.WriteProblem,
	})
	if err != nil {
		return nil, err
	}
	var sessions scs.Store // nil: in memory
	if rdb != nil {
		sessions = goredisstore.NewWithPrefix(rdb, cfg.RedisKeyPrefix+"session:")
	}
	web, err := webauth.New(webauth.Config{
		BaseURL:      cfg.BaseURL,
		Issuer:       cfg.Issuer(),
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Keys:         keys,
		IdleTimeout:  cfg.SessionIdleTimeout,
		Lifetime:     cfg.SessionLifetime,
		Store:        sessions,
		HTTPClient:   &http.Client{Timeout: cfg.UpstreamTimeout},
		OnError:      server.WriteProblem,
	})
	if err != nil {
		return nil, err
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
		return nil, err
	}
	upstream, err := mgmt.New(mgmt.Config{
		Domain:       cfg.Auth0URL,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Audience:     cfg.ManagementAudience,
		CallTimeout:  cfg.UpstreamTimeout,
		Budget:       mgmtBudget,
	})
	if err != nil {
		return nil, err
	}
	verifier := auth.NewIDTokenVerifier(auth.IDTokenVerifierConfig{
		Keys:      keys,
		Issuer:    cfg.Issuer(),
		Audiences: append([]string{cfg.ClientID}, cfg.LinkAllowedAudiences...),
	})
	ready := map[string]func(context.Context) error{
		"auth0": func(ctx context.Context) error {
			_, err := keys.Keys(ctx, "")
			return err
		},
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
		ClientID:             cfg.ClientID,
		MaxAge:               cfg.LinkMaxAge,
		RequireVerifiedEmail: cfg.LinkRequireVerifiedEmail,
		RequireNonce:         cfg.LinkRequireNonce,
		NonceTTL:             cfg.LinkNonceTTL,
		CacheTTL:             cfg.IdentityCacheTTL,
	}, upstream, verifier, store)

	reg := prometheus.NewRegistry()
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
	)

	return server.New(server.Config{
		RequestTimeout:     cfg.RequestTimeout,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		Client: server.ClientConfig{
			Domain:               cfg.Auth0URL,
			ConfigurationBaseURL: cfg.LockConfigurationBaseURL,
			ClientID:             cfg.ClientID,
			Issuer:               cfg.Issuer(),
			Audience:             cfg.Audience,
			Connections:          cfg.LinkConnections,
		},
	}, server.Deps{
		Logger:     log,
		AccessLog:  logs.access,
		Identities: svc,
		Bearer:     bearer,
		Web:        web,
		Ready:      ready,
		OpenAPI:    linkbff.OpenAPISpec(),
		Frontend:   frontend.Files(),
		Metrics:    reg,
	}), nil
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
