// Package devtenant is an Auth0-compatible development tenant: OIDC provider, the
// endpoints Auth0 Lock needs, and the parts of the Management API v2 that account
// linking uses. It runs in-process (tests, the embedded default of linkbff) or as the
// standalone cmd/devtenant.
//
// It shares no code with linkbff's own packages on purpose: it is written from Auth0's
// documented wire contract, so that linkbff is tested against an independent reading
// of that contract rather than against its own assumptions.
//
// It is a development tool: in-memory, loopback-only by default, with test knobs under
// /__dev/ (token minting, request counters, fault injection, key rotation).
package devtenant

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a tenant.
type Options struct {
	// Addr is the listen address for Start (default "127.0.0.1:0").
	Addr string
	// Issuer is the public issuer URL. Empty means "http://{listen address}/".
	// It always ends with a slash, as Auth0's does.
	Issuer string
	// Seed is the tenant's initial content. A zero Seed means DemoSeed().
	Seed *Seed
	// Logger receives one line per request at debug level. Nil discards.
	Logger *slog.Logger
	// DisableDevEndpoints hides /__dev/ over HTTP (the Go API keeps working).
	DisableDevEndpoints bool
	// HTTPClient posts back-channel logout tokens (nil: a client with a 5s timeout).
	HTTPClient *http.Client
}

// Tenant is a running (or startable) development tenant.
type Tenant struct {
	issuer string // with trailing slash
	log    *slog.Logger
	keys   *keyRing
	devAPI bool
	// backchannel posts logout tokens to clients' back-channel logout URLs.
	backchannel *http.Client

	// mu guards the maps below and the records in them. Methods whose names end in
	// Locked must be called with mu held; every other method takes it itself.
	mu          sync.Mutex
	clients     map[string]*Client
	apis        map[string]*API
	connections map[string]*Connection
	users       map[string]*userRecord // by primary user_id
	codes       map[string]*authCode
	refresh     map[string]*refreshGrant
	sessions    map[string]*session     // by cookie value
	logins      map[string]*loginTxn    // pending /authorize requests, by transaction id
	tickets     map[string]*loginTicket // from /co/authenticate, redeemed at /authorize
	// passwords of database identities by "auth0|id". They belong to the identity,
	// not the user record, so a database identity linked into another user still logs
	// in (and yields the primary's sub), as in Auth0.
	passwords map[string]string
	pages     *template.Template // login, error and form_post pages

	knobs *knobs

	mux       *http.ServeMux   // built from routeTable
	byPattern map[string]route // the mux's routes, by pattern

	srv      *http.Server
	listener net.Listener
	done     chan struct{}
}

// New builds a tenant without listening; serve Handler() yourself. Options.Issuer is
// required here because there is no listen address to derive it from.
func New(opts Options) (*Tenant, error) {
	if opts.Issuer == "" {
		return nil, errors.New("devtenant: New needs Options.Issuer (Start derives it from the listen address)")
	}
	return newTenant(opts)
}

// Start listens on opts.Addr (default 127.0.0.1:0) and serves until Close.
func Start(opts Options) (*Tenant, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devtenant: listen: %w", err)
	}
	if opts.Issuer == "" {
		opts.Issuer = "http://" + ln.Addr().String() + "/"
	}
	t, err := newTenant(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	t.listener = ln
	t.srv = &http.Server{
		Handler:           t.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		if err := t.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.log.Error("devtenant: serve", "err", err)
		}
	}()
	return t, nil
}

func newTenant(opts Options) (*Tenant, error) {
	issuer, err := normalizeIssuer(opts.Issuer)
	if err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == nil {
		s := DemoSeed()
		seed = &s
	}
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	keys, err := newKeyRing()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tenant{
		issuer:      issuer,
		log:         log,
		keys:        keys,
		devAPI:      !opts.DisableDevEndpoints,
		clients:     map[string]*Client{},
		apis:        map[string]*API{},
		connections: map[string]*Connection{},
		users:       map[string]*userRecord{},
		codes:       map[string]*authCode{},
		refresh:     map[string]*refreshGrant{},
		sessions:    map[string]*session{},
		logins:      map[string]*loginTxn{},
		tickets:     map[string]*loginTicket{},
		passwords:   map[string]string{},
		pages:       pages,
		knobs:       newKnobs(),
		backchannel: opts.HTTPClient,
	}
	if t.backchannel == nil {
		t.backchannel = &http.Client{Timeout: backchannelTimeout}
	}
	t.mu.Lock()
	t.loadSeedLocked(seed, time.Now())
	t.mu.Unlock()
	t.mux, t.byPattern = t.routes()
	return t, nil
}

func normalizeIssuer(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("devtenant: issuer %q must be an absolute http(s) URL without query or fragment", s)
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// Issuer is the tenant's issuer, with the trailing slash Auth0 uses ("http://127.0.0.1:4000/").
func (t *Tenant) Issuer() string { return t.issuer }

// URL is the base URL without trailing slash ("http://127.0.0.1:4000"), what Auth0 SDKs
// call the domain when given with a scheme.
func (t *Tenant) URL() string { return strings.TrimSuffix(t.issuer, "/") }

// ManagementAudience is the audience of Management API tokens ("{issuer}api/v2/").
func (t *Tenant) ManagementAudience() string { return t.issuer + "api/v2/" }

// Handler serves the tenant's HTTP API.
func (t *Tenant) Handler() http.Handler { return t.mux }

// Addr is the address Start listens on.
func (t *Tenant) Addr() string {
	if t.listener == nil {
		return ""
	}
	return t.listener.Addr().String()
}

// Close stops a tenant started with Start.
func (t *Tenant) Close() error {
	if t.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := t.srv.Shutdown(ctx)
	if err != nil {
		err = t.srv.Close()
	}
	<-t.done
	return err
}
