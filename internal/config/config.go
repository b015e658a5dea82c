// Package config owns linkbff's configuration: one struct read from the environment,
// every default stated once (in Defaults), and Validate naming each wrong variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is the whole configuration of a linkbff process.
type Config struct {
	// Dev is true when no AUTH0_* variable is set at all (Auth0Variables): linkbff
	// then runs the development tenant in-process, on loopback only, and takes the
	// Auth0 settings from it.
	Dev bool
	// DevTenantAddr (DEVTENANT_ADDR) is where the development tenant listens in dev
	// mode: a loopback address.
	DevTenantAddr string
	// AllowInsecure (LINKBFF_ALLOW_INSECURE) lets settings that weaken a check
	// (Weakened) run against a real tenant; each is logged as a warning at start.
	AllowInsecure bool

	// Auth0URL is the tenant's base URL ("https://tenant.auth0.com"), from AUTH0_DOMAIN:
	// its canonical domain, where linkbff gets its Management API token and calls the
	// Management API.
	Auth0URL string
	// CustomDomainURL (AUTH0_CUSTOM_DOMAIN) is the tenant's custom domain as a base
	// URL, when it has one: browsers sign in there (the page's Lock and /auth/login),
	// and tokens it issues carry it as their iss, which linkbff then accepts beside
	// the canonical issuer.
	CustomDomainURL string
	Audience        string // AUTH0_AUDIENCE: the API identifier bearer tokens are for
	ClientID        string // AUTH0_CLIENT_ID: the BFF's Regular Web Application
	ClientSecret    string // AUTH0_CLIENT_SECRET
	// ClientSecretPrevious (AUTH0_CLIENT_SECRET_PREVIOUS) is a second secret of the
	// same application, tried when Auth0 refuses the first: set during a rotation.
	ClientSecretPrevious string
	// ManagementClientID and ManagementClientSecret (AUTH0_MANAGEMENT_CLIENT_ID,
	// AUTH0_MANAGEMENT_CLIENT_SECRET) name a separate Machine-to-Machine application
	// for the Management API; unset, the BFF's application holds that grant too.
	ManagementClientID             string
	ManagementClientSecret         string
	ManagementClientSecretPrevious string // AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS
	ManagementAudience             string // AUTH0_MANAGEMENT_AUDIENCE

	// LockConfigurationBaseURL is where Auth0 Lock loads the client configuration
	// (LOCK_CONFIGURATION_BASE_URL): Auth0's regional CDN for hosted tenants, the
	// tenant itself for the development tenant.
	LockConfigurationBaseURL string

	LinkAllowedAudiences     []string      // LINK_ALLOWED_AUDIENCES: extra client ids whose ID tokens may be linked
	LinkMaxAge               time.Duration // LINK_MAX_AGE
	LinkRequireVerifiedEmail bool          // LINK_REQUIRE_VERIFIED_EMAIL
	LinkRequireNonce         bool          // LINK_REQUIRE_NONCE
	LinkNonceTTL             time.Duration // LINK_NONCE_TTL

	// ScopeRead (SCOPE_READ) and ScopeWrite (SCOPE_WRITE) are the scopes an access
	// token needs for GET /me/identities, and for the nonce, link and unlink; with
	// RequireScopes (REQUIRE_SCOPES) false, no scope is required (a weakened check:
	// Weakened).
	ScopeRead     string
	ScopeWrite    string
	RequireScopes bool
	// AllowedClientIDs (ALLOWED_CLIENT_IDS), when not empty, are the only
	// applications (client_id, else azp) whose access tokens are accepted.
	AllowedClientIDs []string

	// LinkConnections (LINK_CONNECTIONS) are the connections the page offers for the
	// secondary login; empty lets Lock offer every connection the client has enabled.
	LinkConnections []string

	ListenAddr         string        // LISTEN_ADDR
	BaseURL            string        // BASE_URL: the public URL of this service
	CORSAllowedOrigins []string      // CORS_ALLOWED_ORIGINS
	IdentityCacheTTL   time.Duration // IDENTITY_CACHE_TTL
	// IdentityCacheBytes (IDENTITY_CACHE_BYTES) bounds the in-process identity cache
	// (without REDIS_URL); TokenCacheBytes (TOKEN_CACHE_BYTES) the cache of verified
	// access tokens, 0 turning it off.
	IdentityCacheBytes int
	TokenCacheBytes    int
	UpstreamTimeout    time.Duration // MANAGEMENT_API_TIMEOUT: per Management API call
	// ManagementAPIRPS (MANAGEMENT_API_RPS) is the Management API request budget of
	// all replicas together, in requests per second.
	ManagementAPIRPS float64
	RequestTimeout   time.Duration // REQUEST_TIMEOUT: whole request deadline
	ShutdownTimeout  time.Duration // SHUTDOWN_TIMEOUT: how long in-flight requests may finish
	// ShutdownDrainDelay (SHUTDOWN_DRAIN_DELAY) is how long linkbff keeps serving,
	// with /readyz failing, between SIGTERM and closing its listener: the time a load
	// balancer needs to notice and stop sending new requests.
	ShutdownDrainDelay time.Duration

	// Browser sessions: SESSION_IDLE_TIMEOUT ends a session nobody used for that long,
	// SESSION_LIFETIME ends any session that long after its login.
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration
	// ReauthMaxAge (REAUTH_MAX_AGE): a link or unlink needs a login younger than
	// this; 0 turns the rule off. ReauthAuthTimeClaim (REAUTH_AUTH_TIME_CLAIM) is
	// the bearer-token claim holding the login time.
	ReauthMaxAge        time.Duration
	ReauthAuthTimeClaim string
	// RedisURL (REDIS_URL), when set, puts the state replicas share in that Redis
	// (redis:// or rediss://); unset, it stays in this process.
	RedisURL       string
	RedisKeyPrefix string // REDIS_KEY_PREFIX: starts every key linkbff writes

	LogLevel  slog.Level // LOG_LEVEL: debug, info, warn, error
	LogFormat string     // LOG_FORMAT: json or text

	// DebugAddr (DEBUG_ADDR), when set, is a loopback host:port where net/http/pprof
	// is served, on a listener of its own; unset, profiling is off.
	DebugAddr string
	// MetricsAddr (METRICS_ADDR), when set, is the host:port of a listener of its own
	// that serves /metrics, which the main listener then does not; any address, as
	// metrics are scraped from another host. Unset, the main listener serves it.
	MetricsAddr string

	// RateLimits are the abuse limits on /me/* and the sign-in routes (RATE_LIMIT_*).
	RateLimits RateLimits
	// TrustedProxies (TRUSTED_PROXIES) are the networks of the reverse proxies whose
	// X-Forwarded-For names the client; empty: the client is the connection's peer,
	// and no header is believed.
	TrustedProxies []netip.Prefix
}

// RateLimits are requests per minute, per user and per client address, for the
// writes (nonce, link, unlink) and the reads (the identity list); 0 turns one off.
type RateLimits struct {
	UserWrites int // RATE_LIMIT_USER_WRITES_PER_MINUTE
	UserReads  int // RATE_LIMIT_USER_READS_PER_MINUTE
	IPWrites   int // RATE_LIMIT_IP_WRITES_PER_MINUTE
	IPReads    int // RATE_LIMIT_IP_READS_PER_MINUTE
}

// Defaults, stated once. Where dev and production differ, both are given.
const (
	DefaultLinkMaxAge       = 5 * time.Minute
	DefaultLinkNonceTTL     = 5 * time.Minute
	DefaultScopeRead        = "read:identities"
	DefaultScopeWrite       = "write:identities"
	DefaultListenAddrDev    = "127.0.0.1:3000"
	DefaultListenAddr       = ":3000"
	DefaultIdentityCacheTTL = 30 * time.Second
	// The caches' bounds, as each cache charges its entries (see the README): about
	// 12,000 identity lists of two identities, and 3,000 access tokens of 1 KB.
	DefaultIdentityCacheBytes = 16 << 20
	DefaultTokenCacheBytes    = 8 << 20
	DefaultUpstreamTimeout    = 5 * time.Second // or half of REQUEST_TIMEOUT when that is less
	// DefaultManagementAPIRPS is the Management API rate of Auth0's free and trial
	// tenants (2 requests per second, with bursts of up to 10 that linkbff leaves
	// to other clients of the tenant).
	DefaultManagementAPIRPS = 2
	DefaultRequestTimeout   = 15 * time.Second
	// DefaultShutdownGrace is added to REQUEST_TIMEOUT for SHUTDOWN_TIMEOUT's default,
	// so that a request in flight at SIGTERM may run to its deadline and answer.
	DefaultShutdownGrace   = 5 * time.Second
	DefaultDrainDelay      = 5 * time.Second
	DefaultDrainDelayDev   = 0
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
	DefaultReauthMaxAge    = 10 * time.Minute
	DefaultAuthTimeClaim   = "auth_time"
	DefaultRedisKeyPrefix  = "linkbff:"
	DefaultLogFormatDev    = "text"
	DefaultLogFormat       = "json"
	DefaultDevTenantAddr   = "127.0.0.1:0"

	// The abuse limits, per minute: far above what a person does (a link is a nonce
	// and a link; the page reads the list once per change), low enough that one
	// caller cannot spend the tenant's Management API budget. A client address is
	// allowed more than a user, since many users may share one (an office's NAT).
	DefaultRateLimitUserWrites = 30
	DefaultRateLimitUserReads  = 300
	DefaultRateLimitIPWrites   = 300
	DefaultRateLimitIPReads    = 3000

	// The longest LINK_NONCE_TTL and LINK_MAX_AGE a real tenant runs with unless
	// LINKBFF_ALLOW_INSECURE is set: a link intent or a secondary login older than
	// this is one somebody else may have had the time to use.
	MaxSecureLinkNonceTTL = 15 * time.Minute
	MaxSecureLinkMaxAge   = time.Hour
)

// Auth0Variables are the settings of a real tenant. Development mode starts only when
// none of them is set; a new AUTH0_* setting belongs in this list (a test holds
// config.go to it).
var Auth0Variables = []string{
	"AUTH0_DOMAIN",
	"AUTH0_AUDIENCE",
	"AUTH0_CLIENT_ID",
	"AUTH0_CLIENT_SECRET",
	"AUTH0_CLIENT_SECRET_PREVIOUS",
	"AUTH0_CUSTOM_DOMAIN",
	"AUTH0_MANAGEMENT_AUDIENCE",
	"AUTH0_MANAGEMENT_CLIENT_ID",
	"AUTH0_MANAGEMENT_CLIENT_SECRET",
	"AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS",
}

// LogFormatFrom is LOG_FORMAT as FromEnv reads it: as set, else text in development
// mode and json otherwise. It needs no valid configuration, so that a failure to
// start is reported in the format of the log.
func LogFormatFrom(getenv func(string) string) string {
	if f := getenv("LOG_FORMAT"); f != "" {
		return f
	}
	if len(auth0Set(getenv)) > 0 {
		return DefaultLogFormat
	}
	return DefaultLogFormatDev
}

// auth0Set lists the Auth0Variables set to more than blanks. None is development
// mode: the one test of it, which FromEnv and LogFormatFrom share.
func auth0Set(getenv func(string) string) []string {
	var set []string
	for _, name := range Auth0Variables {
		if strings.TrimSpace(getenv(name)) != "" {
			set = append(set, name)
		}
	}
	return set
}

// FromEnv reads the configuration. The error lists every wrong variable.
func FromEnv(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{}
	set := auth0Set(getenv)
	domain := strings.TrimSpace(getenv("AUTH0_DOMAIN"))
	c.Dev = len(set) == 0
	switch {
	case c.Dev:
	case domain == "":
		// Half a real configuration must never fall back to the development tenant.
		r.fail("AUTH0_DOMAIN", "required when any AUTH0_* variable is set (%s is set); unset every AUTH0_* variable for the development tenant", strings.Join(set, ", "))
	default:
		c.Auth0URL = r.domain("AUTH0_DOMAIN", domain)
	}
	c.AllowInsecure = r.boolean("LINKBFF_ALLOW_INSECURE", false)
	c.Audience = getenv("AUTH0_AUDIENCE")
	c.ClientID = getenv("AUTH0_CLIENT_ID")
	c.ClientSecret = getenv("AUTH0_CLIENT_SECRET")
	c.ClientSecretPrevious = getenv("AUTH0_CLIENT_SECRET_PREVIOUS")
	c.ManagementClientID = getenv("AUTH0_MANAGEMENT_CLIENT_ID")
	c.ManagementClientSecret = getenv("AUTH0_MANAGEMENT_CLIENT_SECRET")
	c.ManagementClientSecretPrevious = getenv("AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS")
	c.ManagementAudience = getenv("AUTH0_MANAGEMENT_AUDIENCE")
	if custom := strings.TrimSpace(getenv("AUTH0_CUSTOM_DOMAIN")); custom != "" {
		c.CustomDomainURL = r.domain("AUTH0_CUSTOM_DOMAIN", custom)
	}
	c.LinkAllowedAudiences = list(getenv("LINK_ALLOWED_AUDIENCES"))
	c.LinkConnections = list(getenv("LINK_CONNECTIONS"))
	c.LinkMaxAge = r.duration("LINK_MAX_AGE", DefaultLinkMaxAge)
	c.LinkNonceTTL = r.duration("LINK_NONCE_TTL", DefaultLinkNonceTTL)
	c.LinkRequireVerifiedEmail = r.boolean("LINK_REQUIRE_VERIFIED_EMAIL", true)
	c.LinkRequireNonce = r.boolean("LINK_REQUIRE_NONCE", true)
	c.ScopeRead = orDefault(getenv("SCOPE_READ"), DefaultScopeRead)
	c.ScopeWrite = orDefault(getenv("SCOPE_WRITE"), DefaultScopeWrite)
	c.RequireScopes = r.boolean("REQUIRE_SCOPES", true)
	c.AllowedClientIDs = list(getenv("ALLOWED_CLIENT_IDS"))
	c.ListenAddr = getenv("LISTEN_ADDR")
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
		if c.Dev {
			c.ListenAddr = DefaultListenAddrDev
		}
	}
	if c.Dev {
		c.DevTenantAddr = getenv("DEVTENANT_ADDR")
		if c.DevTenantAddr == "" {
			c.DevTenantAddr = DefaultDevTenantAddr
		}
	}
	c.BaseURL = strings.TrimSuffix(getenv("BASE_URL"), "/")
	c.CORSAllowedOrigins = list(getenv("CORS_ALLOWED_ORIGINS"))
	c.IdentityCacheTTL = r.duration("IDENTITY_CACHE_TTL", DefaultIdentityCacheTTL)
	c.IdentityCacheBytes = r.size("IDENTITY_CACHE_BYTES", DefaultIdentityCacheBytes)
	c.TokenCacheBytes = r.size("TOKEN_CACHE_BYTES", DefaultTokenCacheBytes)
	c.ManagementAPIRPS = r.number("MANAGEMENT_API_RPS", DefaultManagementAPIRPS)
	c.RequestTimeout = r.duration("REQUEST_TIMEOUT", DefaultRequestTimeout)
	// Unset, the timeouts that must fit the request deadline follow it; set, a value
	// that contradicts it is an error (Validate).
	c.UpstreamTimeout = r.duration("MANAGEMENT_API_TIMEOUT", min(DefaultUpstreamTimeout, c.RequestTimeout/2))
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", c.RequestTimeout+DefaultShutdownGrace)
	drain := DefaultDrainDelay
	if c.Dev {
		drain = DefaultDrainDelayDev // nobody balances load onto make run
	}
	c.ShutdownDrainDelay = r.duration("SHUTDOWN_DRAIN_DELAY", drain)
	c.SessionIdleTimeout = r.duration("SESSION_IDLE_TIMEOUT", DefaultSessionIdle)
	c.SessionLifetime = r.duration("SESSION_LIFETIME", DefaultSessionLifetime)
	c.ReauthMaxAge = r.duration("REAUTH_MAX_AGE", DefaultReauthMaxAge)
	c.ReauthAuthTimeClaim = orDefault(strings.TrimSpace(getenv("REAUTH_AUTH_TIME_CLAIM")), DefaultAuthTimeClaim)
	c.RedisURL = strings.TrimSpace(getenv("REDIS_URL"))
	c.RedisKeyPrefix = getenv("REDIS_KEY_PREFIX")
	if c.RedisKeyPrefix == "" {
		c.RedisKeyPrefix = DefaultRedisKeyPrefix
	}
	c.DebugAddr = strings.TrimSpace(getenv("DEBUG_ADDR"))
	c.MetricsAddr = strings.TrimSpace(getenv("METRICS_ADDR"))
	c.RateLimits = RateLimits{
		UserWrites: r.perMinute("RATE_LIMIT_USER_WRITES_PER_MINUTE", DefaultRateLimitUserWrites),
		UserReads:  r.perMinute("RATE_LIMIT_USER_READS_PER_MINUTE", DefaultRateLimitUserReads),
		IPWrites:   r.perMinute("RATE_LIMIT_IP_WRITES_PER_MINUTE", DefaultRateLimitIPWrites),
		IPReads:    r.perMinute("RATE_LIMIT_IP_READS_PER_MINUTE", DefaultRateLimitIPReads),
	}
	c.TrustedProxies = r.prefixes("TRUSTED_PROXIES")
	c.LogLevel = r.level("LOG_LEVEL")
	c.LogFormat = LogFormatFrom(getenv)
	if c.ManagementAudience == "" && c.Auth0URL != "" {
		c.ManagementAudience = c.Auth0URL + "/api/v2/"
	}
	c.LockConfigurationBaseURL = strings.TrimSuffix(getenv("LOCK_CONFIGURATION_BASE_URL"), "/")
	if c.LockConfigurationBaseURL == "" && c.Auth0URL != "" {
		c.LockConfigurationBaseURL = DefaultLockConfigurationBaseURL(c.Auth0URL)
	}
	if err := errors.Join(append(r.errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DefaultLockConfigurationBaseURL is where Lock finds a tenant's client configuration:
// Auth0's CDN for its region when the domain is TENANT[.REGION].auth0.com (as Lock
// itself derives it), the US CDN for a custom domain (set LOCK_CONFIGURATION_BASE_URL
// for another region), and the tenant itself for a loopback development tenant.
func DefaultLockConfigurationBaseURL(auth0URL string) string {
	u, err := url.Parse(auth0URL)
	if err != nil {
		return "https://cdn.auth0.com"
	}
	if isLoopback(u.Hostname()) {
		return auth0URL
	}
	labels := strings.Split(u.Hostname(), ".")
	if n := len(labels); n == 4 && labels[n-2] == "auth0" && labels[n-1] == "com" {
		return "https://cdn." + labels[1] + ".auth0.com"
	}
	return "https://cdn.auth0.com"
}

// Issuer is the tenant's token issuer at its canonical domain, with Auth0's trailing
// slash.
func (c Config) Issuer() string { return c.Auth0URL + "/" }

// LoginURL is where browsers sign in: the custom domain when there is one, else the
// canonical domain.
func (c Config) LoginURL() string {
	if c.CustomDomainURL != "" {
		return c.CustomDomainURL
	}
	return c.Auth0URL
}

// LoginIssuer is the issuer of the tokens browsers obtain at LoginURL.
func (c Config) LoginIssuer() string { return c.LoginURL() + "/" }

// Issuers are the issuers whose tokens linkbff accepts: Auth0 sets iss to the domain
// a token was requested at, so with a custom domain both it and the canonical domain
// issue valid tokens.
func (c Config) Issuers() []string {
	if c.CustomDomainURL == "" || c.CustomDomainURL == c.Auth0URL {
		return []string{c.Issuer()}
	}
	return []string{c.LoginIssuer(), c.Issuer()}
}

// ManagementApp is the application whose client credentials get linkbff's Management
// API token.
type ManagementApp struct {
	ClientID, ClientSecret, PreviousSecret string
	// Separate is true for a Machine-to-Machine application of its own, false when
	// it is the BFF's application.
	Separate bool
}

// Management returns the Management API application: AUTH0_MANAGEMENT_CLIENT_ID's
// when set, else the BFF's.
func (c Config) Management() ManagementApp {
	if c.ManagementClientID != "" {
		return ManagementApp{ClientID: c.ManagementClientID, ClientSecret: c.ManagementClientSecret, PreviousSecret: c.ManagementClientSecretPrevious, Separate: true}
	}
	return ManagementApp{ClientID: c.ClientID, ClientSecret: c.ClientSecret, PreviousSecret: c.ClientSecretPrevious}
}

// LockTenant is the tenant name Auth0 Lock needs (its overrides.__tenant) when it
// runs on a custom domain, from which it cannot read the name: the first label of the
// canonical domain (TENANT.REGION.auth0.com). Empty without a custom domain, and for
// a development tenant on a loopback address.
func (c Config) LockTenant() string {
	if c.CustomDomainURL == "" {
		return ""
	}
	u, err := url.Parse(c.Auth0URL)
	if err != nil || isLoopback(u.Hostname()) || net.ParseIP(u.Hostname()) != nil {
		return ""
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return name
}

// Validate checks a complete configuration. In dev mode the Auth0 settings come from
// the embedded tenant and are checked after it starts (call Validate again then).
func (c Config) Validate() error {
	var r reader
	bad := r.fail
	if !c.Dev || c.Auth0URL != "" {
		for _, v := range []struct{ name, value string }{
			{"AUTH0_AUDIENCE", c.Audience},
			{"AUTH0_CLIENT_ID", c.ClientID},
			{"AUTH0_CLIENT_SECRET", c.ClientSecret},
		} {
			if v.value == "" {
				bad(v.name, "required with a real tenant (AUTH0_DOMAIN)")
			}
		}
		if u, err := url.Parse(c.ManagementAudience); err != nil || u.Scheme == "" || u.Host == "" {
			bad("AUTH0_MANAGEMENT_AUDIENCE", "must be an absolute URL such as https://TENANT.auth0.com/api/v2/")
		}
	}
	switch {
	case c.ManagementClientID != "" && c.ManagementClientSecret == "":
		bad("AUTH0_MANAGEMENT_CLIENT_SECRET", "required when AUTH0_MANAGEMENT_CLIENT_ID is set")
	case c.ManagementClientID == "" && c.ManagementClientSecret != "":
		bad("AUTH0_MANAGEMENT_CLIENT_ID", "required when AUTH0_MANAGEMENT_CLIENT_SECRET is set")
	}
	if c.ManagementClientSecretPrevious != "" && c.ManagementClientID == "" {
		bad("AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS", "only means something with AUTH0_MANAGEMENT_CLIENT_ID (without it, set AUTH0_CLIENT_SECRET_PREVIOUS)")
	}
	// An access token and an ID token differ in their audience alone (both are
	// RS256 JWTs of one issuer, typed "JWT" by Auth0): the API's identifier must
	// never be a client id, or an ID token would pass as an access token.
	if c.Audience != "" && (c.Audience == c.ClientID || slices.Contains(c.LinkAllowedAudiences, c.Audience)) {
		bad("AUTH0_AUDIENCE", "must not be a client id (AUTH0_CLIENT_ID or one of LINK_ALLOWED_AUDIENCES): ID tokens would pass as access tokens")
	}
	for _, v := range []struct{ name, value string }{{"SCOPE_READ", c.ScopeRead}, {"SCOPE_WRITE", c.ScopeWrite}} {
		if !validScope(v.value) {
			bad(v.name, "%q is not an OAuth scope (printable ASCII without spaces, quotes or backslashes; RFC 6749 §3.3)", v.value)
		}
	}
	for _, name := range c.LinkConnections {
		if !validConnectionName(name) {
			bad("LINK_CONNECTIONS", "%q is not an Auth0 connection name such as google-oauth2 (letters, digits and inner dashes, at most 128)", name)
		}
	}
	if c.LinkMaxAge <= 0 {
		bad("LINK_MAX_AGE", "must be positive")
	}
	if c.LinkNonceTTL <= 0 {
		bad("LINK_NONCE_TTL", "must be positive")
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", "must be host:port: %v", err)
	} else if c.Dev && !loopbackAddr(c.ListenAddr) {
		bad("LISTEN_ADDR", "must be a loopback address such as 127.0.0.1:3000 in development mode (no AUTH0_* variable set), got %q: the development tenant has demo passwords and lets anyone mint tokens", c.ListenAddr)
	}
	if c.Dev {
		if _, _, err := net.SplitHostPort(c.DevTenantAddr); err != nil {
			bad("DEVTENANT_ADDR", "must be host:port: %v", err)
		} else if !loopbackAddr(c.DevTenantAddr) {
			bad("DEVTENANT_ADDR", "must be a loopback address such as 127.0.0.1:4000, got %q: the development tenant has demo passwords and lets anyone mint tokens", c.DevTenantAddr)
		}
	}
	if !c.Dev && !c.AllowInsecure {
		for _, w := range c.Weakened() {
			bad(w.Variable, "%s weakens a check; refused against a real tenant unless LINKBFF_ALLOW_INSECURE=1", w.Reason)
		}
	}
	if c.LockConfigurationBaseURL != "" {
		if u, err := url.Parse(c.LockConfigurationBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("LOCK_CONFIGURATION_BASE_URL", "must be an http(s) URL such as https://cdn.eu.auth0.com, got %q", c.LockConfigurationBaseURL)
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			bad("BASE_URL", "must be an http(s) origin such as https://app.example.com, got %q", c.BaseURL)
		}
	}
	for _, o := range c.CORSAllowedOrigins {
		if msg := checkOrigin(o); msg != "" {
			bad("CORS_ALLOWED_ORIGINS", "%q is not an exact origin such as https://app.example.com: %s", o, msg)
		}
	}

	if c.IdentityCacheTTL < 0 {
		bad("IDENTITY_CACHE_TTL", "must not be negative")
	}
	if c.IdentityCacheBytes < minCacheBytes {
		bad("IDENTITY_CACHE_BYTES", "must be at least %d (64KiB), got %d", minCacheBytes, c.IdentityCacheBytes)
	}
	if c.TokenCacheBytes != 0 && c.TokenCacheBytes < minCacheBytes {
		bad("TOKEN_CACHE_BYTES", "must be 0 (no token cache) or at least %d (64KiB), got %d", minCacheBytes, c.TokenCacheBytes)
	}
	if !(c.ManagementAPIRPS >= 0.01 && c.ManagementAPIRPS <= 10000) {
		bad("MANAGEMENT_API_RPS", "must be a number of requests per second between 0.01 and 10000, got %v", c.ManagementAPIRPS)
	}
	if c.RequestTimeout <= 0 {
		bad("REQUEST_TIMEOUT", "must be positive")
	}
	switch {
	case c.UpstreamTimeout <= 0:
		bad("MANAGEMENT_API_TIMEOUT", "must be positive")
	case c.RequestTimeout > 0 && c.UpstreamTimeout >= c.RequestTimeout:
		// One Management API call could then use up, or outlive, the whole request.
		bad("MANAGEMENT_API_TIMEOUT", "must be shorter than REQUEST_TIMEOUT (%v), got %v", c.RequestTimeout, c.UpstreamTimeout)
	}
	switch {
	case c.ShutdownTimeout <= 0:
		bad("SHUTDOWN_TIMEOUT", "must be positive")
	case c.ShutdownTimeout < c.RequestTimeout:
		// A request in flight at SIGTERM could then be cut before its own deadline,
		// halfway through a link.
		bad("SHUTDOWN_TIMEOUT", "must be at least REQUEST_TIMEOUT (%v), got %v", c.RequestTimeout, c.ShutdownTimeout)
	}
	if c.ShutdownDrainDelay < 0 {
		bad("SHUTDOWN_DRAIN_DELAY", "must not be negative")
	}
	if c.SessionLifetime <= 0 {
		bad("SESSION_LIFETIME", "must be positive")
	}
	if c.SessionIdleTimeout <= 0 || c.SessionIdleTimeout > c.SessionLifetime {
		bad("SESSION_IDLE_TIMEOUT", "must be positive and at most SESSION_LIFETIME (%v), got %v", c.SessionLifetime, c.SessionIdleTimeout)
	}
	if c.ReauthMaxAge < 0 {
		bad("REAUTH_MAX_AGE", "must not be negative (0 turns the rule off), got %v", c.ReauthMaxAge)
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			// The URL may hold a password: keep url.Parse's reason, not its quote.
			if uerr, ok := errors.AsType[*url.Error](err); ok {
				err = uerr.Err
			}
			bad("REDIS_URL", "must be redis://[[user]:password@]host[:port][/db] or rediss://… (TLS): %v", err)
		}
	}
	if c.DebugAddr != "" {
		// Profiles show memory and the command line: never on a reachable address.
		// A host must be given: an empty one means every interface.
		if !loopbackAddr(c.DebugAddr) {
			bad("DEBUG_ADDR", "must be a loopback host:port such as 127.0.0.1:6060 or [::1]:6060 (pprof is never served on other interfaces), got %q", c.DebugAddr)
		}
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("METRICS_ADDR", "must be host:port such as :9090 or 10.0.0.5:9090: %v", err)
		} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
			bad("METRICS_ADDR", "must end in a port number, got %q", c.MetricsAddr)
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "must be json or text, got %q", c.LogFormat)
	}
	return errors.Join(r.errs...)
}

// Weakening is one setting that weakens a check.
type Weakening struct {
	Variable string // the environment variable, e.g. LINK_REQUIRE_NONCE
	Reason   string // what it is set to and why that is weaker
}

// Weakened lists the settings that weaken a check of a token or a link: they run
// against a real tenant only with LINKBFF_ALLOW_INSECURE, and are logged as a warning
// at start.
func (c Config) Weakened() []Weakening {
	var out []Weakening
	if !c.RequireScopes {
		out = append(out, Weakening{"REQUIRE_SCOPES", "false: any valid access token of the API may list, link and unlink, whatever scopes it was granted"})
	}
	if !c.LinkRequireNonce {
		out = append(out, Weakening{"LINK_REQUIRE_NONCE", "false: a secondary ID token is linked without the one-time nonce that binds it to this caller"})
	}
	if !c.LinkRequireVerifiedEmail {
		out = append(out, Weakening{"LINK_REQUIRE_VERIFIED_EMAIL", "false: accounts whose email nobody proved are linked"})
	}
	if c.LinkNonceTTL > MaxSecureLinkNonceTTL {
		out = append(out, Weakening{"LINK_NONCE_TTL", fmt.Sprintf("%v is above %v", c.LinkNonceTTL, MaxSecureLinkNonceTTL)})
	}
	if c.LinkMaxAge > MaxSecureLinkMaxAge {
		out = append(out, Weakening{"LINK_MAX_AGE", fmt.Sprintf("%v is above %v", c.LinkMaxAge, MaxSecureLinkMaxAge)})
	}
	return out
}

// checkOrigin says what keeps o from being an exact web origin as a browser sends it
// in Origin ("" when nothing does): scheme and host in lower case, no default port,
// nothing after the host, no wildcard, and https unless the host is loopback.
func checkOrigin(o string) string {
	if strings.Contains(o, "*") {
		return "wildcards are not allowed"
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err.Error()
	case u.Scheme != "https" && u.Scheme != "http":
		return "the scheme must be https"
	case u.Host == "" || u.Opaque != "":
		return "it has no host"
	case u.User != nil:
		return "it must not hold a user name or password"
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(o, "#"):
		return "it must not have a path, query or fragment (not even a trailing slash)"
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "http is only allowed for loopback hosts; use https"
	case (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80"):
		return "a browser omits the default port from Origin"
	case o != strings.ToLower(o):
		return "a browser sends an origin in lower case"
	}
	return ""
}

// loopbackAddr reports whether a host:port listens on loopback only. An empty host
// (":3000") listens on every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopback(host)
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

// domain turns AUTH0_DOMAIN into a base URL. A bare host means https; a URL with a
// scheme is accepted, but plain http only for loopback hosts (the dev tenant).
func (r *reader) domain(name, v string) string {
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		r.fail(name, "must be a host such as TENANT.auth0.com or an origin URL, got %q", v)
		return ""
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			r.fail(name, "http:// is only allowed for loopback hosts, got %q", v)
			return ""
		}
	default:
		r.fail(name, "scheme must be https (or http for loopback), got %q", u.Scheme)
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// validConnectionName applies Auth0's rule for connection names: ASCII letters and
// digits with single dashes between them, at most 128 characters.
func validConnectionName(name string) bool {
	if name == "" || len(name) > 128 || name[0] == '-' || name[len(name)-1] == '-' || strings.Contains(name, "--") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validScope applies RFC 6749 §3.3's scope-token: 1*( %x21 / %x23-5B / %x5D-7E ),
// which also makes it safe inside the quoted scope of a WWW-Authenticate challenge.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// read returns the variable name as parse reads it, def when it is unset; a value
// parse refuses is reported as "name: must be …, got "value"" and read as def, so
// that FromEnv goes on to report every other wrong variable too.
func read[T any](r *reader, name string, def T, mustBe string, parse func(string) (T, error)) T {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		r.fail(name, "must be %s, got %q", mustBe, v)
		return def
	}
	return x
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	return read(r, name, def, "a duration such as 5m or 30s", time.ParseDuration)
}

// perMinute reads a rate limit: a count of requests per minute, 0 for none.
func (r *reader) perMinute(name string, def int) int {
	return read(r, name, def, "a number of requests per minute (0 turns the limit off)", func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err == nil && n < 0 {
			err = errors.New("negative")
		}
		return n, err
	})
}

// prefixes reads a list of networks (CIDR) or single addresses.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, item := range list(r.getenv(name)) {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				r.fail(name, "%q is not a network such as 10.0.0.0/8 or an address", item)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// minCacheBytes is the smallest cache bound accepted: below it a cache keeps so few
// entries (none over an eighth of the bound) that it is a typo, not a choice.
const minCacheBytes = 64 << 10

// size reads a byte count: a whole number of bytes, or with a unit of KiB, MiB or
// GiB (as GOMEMLIMIT writes them: "16MiB").
func (r *reader) size(name string, def int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	num, mult := v, 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 31)
	if err != nil || int(n) > math.MaxInt32/mult {
		r.fail(name, "not a size such as 16MiB, 512KiB or 1048576 (below 2GiB): %q", v)
		return def
	}
	return int(n) * mult
}

func (r *reader) number(name string, def float64) float64 {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.fail(name, "not a number such as 2 or 0.5: %q", v)
		return def
	}
	return f
}

func (r *reader) boolean(name string, def bool) bool {
	return read(r, name, def, "true or false", strconv.ParseBool)
}

func (r *reader) level(name string) slog.Level {
	return read(r, name, slog.LevelInfo, "debug, info, warn or error", func(v string) (slog.Level, error) {
		var l slog.Level
		return l, l.UnmarshalText([]byte(v))
	})
}

// list splits a comma- or space-separated list, dropping empty items.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}
