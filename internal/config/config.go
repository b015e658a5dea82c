// Package config owns linkbff's configuration: one struct read from the environment,
// every default stated once (in Defaults), and Validate naming each wrong variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is the whole configuration of a linkbff process.
type Config struct {
	// Dev is true when AUTH0_DOMAIN is unset: linkbff then runs the development tenant
	// in-process and takes the Auth0 settings from it.
	Dev bool

	// Auth0URL is the tenant's base URL ("https://tenant.auth0.com"), from AUTH0_DOMAIN.
	Auth0URL           string
	Audience           string // AUTH0_AUDIENCE: the API identifier bearer tokens are for
	ClientID           string // AUTH0_CLIENT_ID: the BFF's Regular Web Application
	ClientSecret       string // AUTH0_CLIENT_SECRET
	ManagementAudience string // AUTH0_MANAGEMENT_AUDIENCE

	// LockConfigurationBaseURL is where Auth0 Lock loads the client configuration
	// (LOCK_CONFIGURATION_BASE_URL): Auth0's regional CDN for hosted tenants, the
	// tenant itself for the development tenant.
	LockConfigurationBaseURL string

	LinkAllowedAudiences     []string      // LINK_ALLOWED_AUDIENCES: extra client ids whose ID tokens may be linked
	LinkMaxAge               time.Duration // LINK_MAX_AGE
	LinkRequireVerifiedEmail bool          // LINK_REQUIRE_VERIFIED_EMAIL
	LinkRequireNonce         bool          // LINK_REQUIRE_NONCE
	LinkNonceTTL             time.Duration // LINK_NONCE_TTL

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
	ShutdownTimeout  time.Duration // SHUTDOWN_TIMEOUT

	// Browser sessions: SESSION_IDLE_TIMEOUT ends a session nobody used for that long,
	// SESSION_LIFETIME ends any session that long after its login.
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration
	// RedisURL (REDIS_URL), when set, puts the state replicas share in that Redis
	// (redis:// or rediss://); unset, it stays in this process.
	RedisURL       string
	RedisKeyPrefix string // REDIS_KEY_PREFIX: starts every key linkbff writes

	LogLevel  slog.Level // LOG_LEVEL: debug, info, warn, error
	LogFormat string     // LOG_FORMAT: json or text

	// DebugAddr (DEBUG_ADDR), when set, is a loopback host:port where net/http/pprof
	// is served, on a listener of its own; unset, profiling is off.
	DebugAddr string
}

// Defaults, stated once. Where dev and production differ, both are given.
const (
	DefaultLinkMaxAge       = 5 * time.Minute
	DefaultLinkNonceTTL     = 5 * time.Minute
	DefaultListenAddrDev    = "127.0.0.1:3000"
	DefaultListenAddr       = ":3000"
	DefaultIdentityCacheTTL = 30 * time.Second
	// The caches' bounds, as each cache charges its entries (see the README): about
	// 12,000 identity lists of two identities, and 3,000 access tokens of 1 KB.
	DefaultIdentityCacheBytes = 16 << 20
	DefaultTokenCacheBytes    = 8 << 20
	DefaultUpstreamTimeout    = 5 * time.Second
	// DefaultManagementAPIRPS is the Management API rate of Auth0's free and trial
	// tenants (2 requests per second, with bursts of up to 10 that linkbff leaves
	// to other clients of the tenant).
	DefaultManagementAPIRPS = 2
	DefaultRequestTimeout   = 15 * time.Second
	DefaultShutdownTimeout  = 10 * time.Second
	DefaultSessionIdle      = 30 * time.Minute
	DefaultSessionLifetime  = 12 * time.Hour
	DefaultRedisKeyPrefix   = "linkbff:"
	DefaultLogFormatDev     = "text"
	DefaultLogFormat        = "json"
)

// FromEnv reads the configuration. The error lists every wrong variable.
func FromEnv(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{}
	domain := strings.TrimSpace(getenv("AUTH0_DOMAIN"))
	c.Dev = domain == ""
	if !c.Dev {
		c.Auth0URL = r.domain("AUTH0_DOMAIN", domain)
	}
	c.Audience = getenv("AUTH0_AUDIENCE")
	c.ClientID = getenv("AUTH0_CLIENT_ID")
	c.ClientSecret = getenv("AUTH0_CLIENT_SECRET")
	c.ManagementAudience = getenv("AUTH0_MANAGEMENT_AUDIENCE")
	c.LinkAllowedAudiences = list(getenv("LINK_ALLOWED_AUDIENCES"))
	c.LinkConnections = list(getenv("LINK_CONNECTIONS"))
	c.LinkMaxAge = r.duration("LINK_MAX_AGE", DefaultLinkMaxAge)
	c.LinkNonceTTL = r.duration("LINK_NONCE_TTL", DefaultLinkNonceTTL)
	c.LinkRequireVerifiedEmail = r.boolean("LINK_REQUIRE_VERIFIED_EMAIL", true)
	c.LinkRequireNonce = r.boolean("LINK_REQUIRE_NONCE", true)
	c.ListenAddr = getenv("LISTEN_ADDR")
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
		if c.Dev {
			c.ListenAddr = DefaultListenAddrDev
		}
	}
	c.BaseURL = strings.TrimSuffix(getenv("BASE_URL"), "/")
	c.CORSAllowedOrigins = list(getenv("CORS_ALLOWED_ORIGINS"))
	c.IdentityCacheTTL = r.duration("IDENTITY_CACHE_TTL", DefaultIdentityCacheTTL)
	c.IdentityCacheBytes = r.size("IDENTITY_CACHE_BYTES", DefaultIdentityCacheBytes)
	c.TokenCacheBytes = r.size("TOKEN_CACHE_BYTES", DefaultTokenCacheBytes)
	c.UpstreamTimeout = r.duration("MANAGEMENT_API_TIMEOUT", DefaultUpstreamTimeout)
	c.ManagementAPIRPS = r.number("MANAGEMENT_API_RPS", DefaultManagementAPIRPS)
	c.RequestTimeout = r.duration("REQUEST_TIMEOUT", DefaultRequestTimeout)
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout)
	c.SessionIdleTimeout = r.duration("SESSION_IDLE_TIMEOUT", DefaultSessionIdle)
	c.SessionLifetime = r.duration("SESSION_LIFETIME", DefaultSessionLifetime)
	c.RedisURL = strings.TrimSpace(getenv("REDIS_URL"))
	c.RedisKeyPrefix = getenv("REDIS_KEY_PREFIX")
	if c.RedisKeyPrefix == "" {
		c.RedisKeyPrefix = DefaultRedisKeyPrefix
	}
	c.DebugAddr = strings.TrimSpace(getenv("DEBUG_ADDR"))
	c.LogLevel = r.level("LOG_LEVEL")
	c.LogFormat = getenv("LOG_FORMAT")
	if c.LogFormat == "" {
		c.LogFormat = DefaultLogFormat
		if c.Dev {
			c.LogFormat = DefaultLogFormatDev
		}
	}
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

// Issuer is the tenant's token issuer, with Auth0's trailing slash.
func (c Config) Issuer() string { return c.Auth0URL + "/" }

// Validate checks a complete configuration. In dev mode the Auth0 settings come from
// the embedded tenant and are checked after it starts (call Validate again then).
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if !c.Dev || c.Auth0URL != "" {
		for _, v := range []struct{ name, value string }{
			{"AUTH0_AUDIENCE", c.Audience},
			{"AUTH0_CLIENT_ID", c.ClientID},
			{"AUTH0_CLIENT_SECRET", c.ClientSecret},
		} {
			if v.value == "" {
				bad(v.name, "required when AUTH0_DOMAIN is set")
			}
		}
		if u, err := url.Parse(c.ManagementAudience); err != nil || u.Scheme == "" || u.Host == "" {
			bad("AUTH0_MANAGEMENT_AUDIENCE", "must be an absolute URL such as https://TENANT.auth0.com/api/v2/")
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
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			bad("CORS_ALLOWED_ORIGINS", "%q is not an exact origin such as https://app.example.com", o)
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
	if c.UpstreamTimeout <= 0 {
		bad("MANAGEMENT_API_TIMEOUT", "must be positive")
	}
	if !(c.ManagementAPIRPS >= 0.01 && c.ManagementAPIRPS <= 10000) {
		bad("MANAGEMENT_API_RPS", "must be a number of requests per second between 0.01 and 10000, got %v", c.ManagementAPIRPS)
	}
	if c.RequestTimeout <= 0 {
		bad("REQUEST_TIMEOUT", "must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		bad("SHUTDOWN_TIMEOUT", "must be positive")
	}
	if c.SessionLifetime <= 0 {
		bad("SESSION_LIFETIME", "must be positive")
	}
	if c.SessionIdleTimeout <= 0 || c.SessionIdleTimeout > c.SessionLifetime {
		bad("SESSION_IDLE_TIMEOUT", "must be positive and at most SESSION_LIFETIME (%v), got %v", c.SessionLifetime, c.SessionIdleTimeout)
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
		if host, _, err := net.SplitHostPort(c.DebugAddr); err != nil || !isLoopback(host) {
			bad("DEBUG_ADDR", "must be a loopback host:port such as 127.0.0.1:6060 or [::1]:6060 (pprof is never served on other interfaces), got %q", c.DebugAddr)
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "must be json or text, got %q", c.LogFormat)
	}
	return errors.Join(errs...)
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

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "not a duration such as 5m or 30s: %q", v)
		return def
	}
	return d
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
	v := r.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

func (r *reader) level(name string) slog.Level {
	var l slog.Level
	if v := r.getenv(name); v != "" {
		if err := l.UnmarshalText([]byte(v)); err != nil {
			r.fail(name, "must be debug, info, warn or error, got %q", v)
		}
	}
	return l
}

// list splits a comma- or space-separated list, dropping empty items.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}
