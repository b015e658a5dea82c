package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

// routes lists every route linkbff serves.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	// Every request, outermost first; each middleware does one job (middleware.go).
	r.Use(
		assignRequestID, // X-Request-Id: the caller's if sane, else a fresh one
		s.logAccess,     // one "request" line per request
		s.recordMetrics, // linkbff_http_* by route pattern
		s.nameSpan,      // tracing on: the server span named by route pattern and the client's address (off: not installed)
		s.scopeRequest,  // the context: the client's address (the peer, or behind TRUSTED_PROXIES their X-Forwarded-For), a logger with request_id and client_ip, the deadline (RequestTimeout)
		recoverPanic,    // a panic becomes a 500 problem
		s.securityHeaders,
	)
	// Cross-origin SPAs call with bearer tokens only: exact origins, never credentials.
	// go-chi/cors reads an empty AllowedOrigins as "every origin", so with no origin
	// configured the middleware is not installed at all: no response then carries
	// Access-Control-Allow-Origin (a preflight gets what the router answers).
	if len(s.cfg.CORSAllowedOrigins) > 0 {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins:   s.cfg.CORSAllowedOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodDelete},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id"},
			ExposedHeaders:   []string{"X-Request-Id", "Retry-After", "WWW-Authenticate"},
			AllowCredentials: false,
			MaxAge:           600,
		}))
	}
	// The page's files are served where no route matches, so that an unknown API
	// path is a 404 problem and a wrong method on a route a 405.
	notFound := http.Handler(http.HandlerFunc(s.notFound))
	if s.deps.Frontend != nil {
		notFound = frontendHandler(s.deps.Frontend, s.cfg.Client, s.notFound)
	}
	r.NotFound(notFound.ServeHTTP)
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		p := problem.New(fault.MethodNotAllowed, "This route does not accept "+req.Method+".")
		// chi gives a custom 405 handler no list of methods; RFC 9110 requires Allow.
		s.fail(w, req, p.WithHeader("Allow", strings.Join(allowedMethods(r, req.URL.Path), ", ")))
	})

	// The generated wrapper binds path and header parameters per the contract.
	op := &api.ServerInterfaceWrapper{Handler: s, ErrorHandlerFunc: s.paramError}

	r.Get("/healthz", op.GetHealth)
	r.Get("/readyz", op.GetReadiness)
	r.Get("/openapi.yaml", op.GetOpenAPISpec)
	r.Get("/config.json", op.GetClientConfig)
	if !s.cfg.MetricsElsewhere {
		r.Get("/metrics", op.GetMetrics)
	}

	// Browser sign-in and session (package webauth): each route loads the session;
	// logout also refuses cross-origin posts.
	if web := s.deps.Web; web != nil {
		r.Group(func(r chi.Router) {
			// Per client address, like /me/*, before the session store is touched: each
			// login stores a state, so a flood would otherwise fill the store.
			r.Use(s.deps.Limits.ByClient)
			r.Use(web.LoadSession)
			r.Method(http.MethodGet, "/auth/login", web.Login())
			r.Method(http.MethodGet, "/auth/callback", web.Callback())
			r.Method(http.MethodPost, "/auth/logout", web.Logout())
			r.Method(http.MethodGet, "/auth/session", web.Session())
		})
		// Auth0 posts here, server to server, without the browser's cookie.
		r.Method(http.MethodPost, "/auth/backchannel-logout", web.BackchannelLogout())
	}

	r.Group(func(r chi.Router) {
		// Per client address, before any work (a flood costs no token check); the
		// 429 is logged and counted like any answer.
		r.Use(s.deps.Limits.ByClient)
		r.Use(s.deps.Bearer.Middleware)
		if web := s.deps.Web; web != nil {
			// Without an Authorization header, the session cookie authenticates:
			// after Bearer, so that a bearer token wins when both are sent.
			r.Use(web.Authenticate)
		}
		r.Use(s.requireAuth)
		if web := s.deps.Web; web != nil {
			// Cookie-authenticated POST/DELETE: same origin and X-CSRF: 1, else 403.
			r.Use(web.RequireCSRF)
		}
		// Per user, now that the caller is known.
		r.Use(s.deps.Limits.ByUser(s.caller))
		// Each operation needs its scope (403 insufficient_scope otherwise).
		read, write := s.requireScope(s.cfg.ReadScope), s.requireScope(s.cfg.WriteScope)
		// GET /me/identities bypasses the generated binder: If-None-Match is a list
		// that may arrive on several lines, which the binder (one value) refuses.
		r.With(read).Get("/me/identities", s.listIdentities)
		r.With(read).Get("/me/identities/suggestions", op.ListIdentitySuggestions)
		r.With(write).Post("/me/identities/nonce", op.CreateLinkNonce)
		// Changes to how a person logs in also need a recent login (REAUTH_MAX_AGE),
		// checked after the scope: no new login can grant a missing scope.
		r.With(write, s.requireRecentLogin).Post("/me/identities", op.LinkIdentity)
		r.With(write, s.requireRecentLogin).Delete("/me/identities/{provider}/{user_id}", op.UnlinkIdentity)
	})

	return r
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, fault.New(fault.RouteNotFound, "No such route."))
}

// allowedMethods lists the methods mux routes for path.
func allowedMethods(mux *chi.Mux, path string) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if mux.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// requireAuth refuses requests that no earlier middleware authenticated.
func (s *server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.FromContext(r.Context()); !ok {
			s.fail(w, r, auth.Unauthenticated())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireScope refuses a caller whose credential was not granted scope: 403
// insufficient_scope with the challenge that names it (RFC 6750 §3.1). An empty scope
// requires nothing.
func (s *server) requireScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if scope == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, _ := auth.FromContext(r.Context()); !p.HasScope(scope) {
				s.fail(w, r, auth.InsufficientScope(scope))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// paramError reports a path/header parameter the generated binder refused.
func (s *server) paramError(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, fault.Wrap(err, fault.InvalidPath, "A parameter of the request is malformed."))
}
