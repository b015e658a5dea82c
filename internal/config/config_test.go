package config

import (
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var prod = map[string]string{
	"AUTH0_DOMAIN":        "tenant.eu.auth0.com",
	"AUTH0_AUDIENCE":      "https://api.example",
	"AUTH0_CLIENT_ID":     "cid",
	"AUTH0_CLIENT_SECRET": "secret",
}

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(env(prod))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Auth0URL: "https://tenant.eu.auth0.com", Audience: "https://api.example", ClientID: "cid", ClientSecret: "secret",
		ManagementAudience: "https://tenant.eu.auth0.com/api/v2/", LockConfigurationBaseURL: "https://cdn.eu.auth0.com",
		LinkMaxAge: 5 * time.Minute, LinkNonceTTL: 5 * time.Minute, LinkRequireVerifiedEmail: true, LinkRequireNonce: true,
		ListenAddr: ":3000", IdentityCacheTTL: 30 * time.Second, UpstreamTimeout: 5 * time.Second,
		RequestTimeout: 15 * time.Second, ShutdownTimeout: 20 * time.Second, ShutdownDrainDelay: 5 * time.Second, LogFormat: "json",
		SessionIdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour, RedisKeyPrefix: "linkbff:",
		ReauthMaxAge: 10 * time.Minute, ReauthAuthTimeClaim: "auth_time",
		IdentityCacheBytes: 16 << 20, TokenCacheBytes: 8 << 20, ManagementAPIRPS: 2,
		RateLimits: RateLimits{UserWrites: 30, UserReads: 300, IPWrites: 300, IPReads: 3000},
		ScopeRead:  "read:identities", ScopeWrite: "write:identities", RequireScopes: true,
	}
	if diff := cmp.Diff(want, c, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c.Issuer() != "https://tenant.eu.auth0.com/" {
		t.Errorf("Issuer = %q", c.Issuer())
	}
}

func TestFromEnvDevDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.ListenAddr != "127.0.0.1:3000" || c.LogFormat != "text" || c.ShutdownDrainDelay != 0 || c.DevTenantAddr != "127.0.0.1:0" {
		t.Errorf("dev defaults: Dev=%v ListenAddr=%q LogFormat=%q ShutdownDrainDelay=%v DevTenantAddr=%q", c.Dev, c.ListenAddr, c.LogFormat, c.ShutdownDrainDelay, c.DevTenantAddr)
	}
}

func TestFromEnvDomainForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tenant.auth0.com", "https://tenant.auth0.com"},
		{"https://tenant.auth0.com/", "https://tenant.auth0.com"},
		{"http://127.0.0.1:4000", "http://127.0.0.1:4000"},
		{"http://localhost:4000", "http://localhost:4000"},
		{"http://[::1]:4000", "http://[::1]:4000"},
	}
	for _, tt := range tests {
		c, err := FromEnv(env(with(prod, "AUTH0_DOMAIN", tt.in)))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if c.Auth0URL != tt.want {
			t.Errorf("%s: Auth0URL = %q, want %q", tt.in, c.Auth0URL, tt.want)
		}
	}
}

// TestFromEnvNamesEachWrongVariable: every wrong variable is named in one error.
func TestFromEnvNamesEachWrongVariable(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		wants []string
	}{
		{"http for a remote host", with(prod, "AUTH0_DOMAIN", "http://tenant.auth0.com"), []string{"AUTH0_DOMAIN"}},
		{"domain with a path", with(prod, "AUTH0_DOMAIN", "https://tenant.auth0.com/x"), []string{"AUTH0_DOMAIN"}},
		{"ftp scheme", with(prod, "AUTH0_DOMAIN", "ftp://tenant"), []string{"AUTH0_DOMAIN"}},
		{"missing credentials", map[string]string{"AUTH0_DOMAIN": "t.auth0.com"}, []string{"AUTH0_AUDIENCE", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"}},
		{"bad durations and bools", with(prod, "LINK_MAX_AGE", "5 minutes", "LINK_REQUIRE_NONCE", "yes please", "IDENTITY_CACHE_TTL", "-1s"), []string{"LINK_MAX_AGE", "LINK_REQUIRE_NONCE", "IDENTITY_CACHE_TTL"}},
		{"bad log settings", with(prod, "LOG_LEVEL", "loud", "LOG_FORMAT", "xml"), []string{"LOG_LEVEL", "LOG_FORMAT"}},
		{"bad listen and base url", with(prod, "LISTEN_ADDR", "3000", "BASE_URL", "app.example.com"), []string{"LISTEN_ADDR", "BASE_URL"}},
		{"bad CORS origin", with(prod, "CORS_ALLOWED_ORIGINS", "https://ok.example, https://bad.example/path"), []string{"CORS_ALLOWED_ORIGINS"}},
		{"bad rate limits", with(prod, "RATE_LIMIT_USER_WRITES_PER_MINUTE", "-1", "RATE_LIMIT_IP_READS_PER_MINUTE", "lots"), []string{"RATE_LIMIT_USER_WRITES_PER_MINUTE", "RATE_LIMIT_IP_READS_PER_MINUTE"}},
		{"bad trusted proxies", with(prod, "TRUSTED_PROXIES", "10.0.0.0/8 proxy.internal"), []string{"TRUSTED_PROXIES"}},
		{"bad LINKBFF_ALLOW_INSECURE", with(prod, "LINKBFF_ALLOW_INSECURE", "please"), []string{"LINKBFF_ALLOW_INSECURE"}},
		{"bad management audience", with(prod, "AUTH0_MANAGEMENT_AUDIENCE", "api/v2"), []string{"AUTH0_MANAGEMENT_AUDIENCE"}},
		{"zero max age", with(prod, "LINK_MAX_AGE", "0s"), []string{"LINK_MAX_AGE"}},
		{"Redis URL without scheme", with(prod, "REDIS_URL", "127.0.0.1:6379"), []string{"REDIS_URL"}},
		{"Redis URL of another scheme", with(prod, "REDIS_URL", "http://127.0.0.1:6379"), []string{"REDIS_URL"}},
		{"Redis URL with a bad database", with(prod, "REDIS_URL", "redis://127.0.0.1:6379/zero"), []string{"REDIS_URL"}},
		{"bad session durations", with(prod, "SESSION_IDLE_TIMEOUT", "0s", "SESSION_LIFETIME", "-1h"), []string{"SESSION_IDLE_TIMEOUT", "SESSION_LIFETIME"}},
		{"idle timeout past the lifetime", with(prod, "SESSION_IDLE_TIMEOUT", "2h", "SESSION_LIFETIME", "1h"), []string{"SESSION_IDLE_TIMEOUT"}},
		{"negative reauth age", with(prod, "REAUTH_MAX_AGE", "-1m"), []string{"REAUTH_MAX_AGE"}},
		{"reauth age not a duration", with(prod, "REAUTH_MAX_AGE", "ten minutes"), []string{"REAUTH_MAX_AGE"}},
		{"quoted connection name", with(prod, "LINK_CONNECTIONS", `github "google-oauth2"`), []string{"LINK_CONNECTIONS"}},
		{"connection name with a double dash", with(prod, "LINK_CONNECTIONS", "my--db"), []string{"LINK_CONNECTIONS"}},
		{"connection name ending in a dash", with(prod, "LINK_CONNECTIONS", "github-"), []string{"LINK_CONNECTIONS"}},
		{"connection name too long", with(prod, "LINK_CONNECTIONS", strings.Repeat("a", 129)), []string{"LINK_CONNECTIONS"}},
		{"sizes without a number", with(prod, "IDENTITY_CACHE_BYTES", "MiB", "TOKEN_CACHE_BYTES", "8 MB"), []string{"IDENTITY_CACHE_BYTES", "TOKEN_CACHE_BYTES"}},
		{"negative and huge sizes", with(prod, "IDENTITY_CACHE_BYTES", "-1", "TOKEN_CACHE_BYTES", "4GiB"), []string{"IDENTITY_CACHE_BYTES", "TOKEN_CACHE_BYTES"}},
		{"debug on every interface", with(prod, "DEBUG_ADDR", "0.0.0.0:6060"), []string{"DEBUG_ADDR"}},
		{"debug without a host", with(prod, "DEBUG_ADDR", ":6060"), []string{"DEBUG_ADDR"}},
		{"debug on every IPv6 interface", with(prod, "DEBUG_ADDR", "[::]:6060"), []string{"DEBUG_ADDR"}},
		{"debug on a private address", with(prod, "DEBUG_ADDR", "10.0.0.5:6060"), []string{"DEBUG_ADDR"}},
		{"debug on a host name", with(prod, "DEBUG_ADDR", "debug.internal:6060"), []string{"DEBUG_ADDR"}},
		{"debug without a port", with(prod, "DEBUG_ADDR", "127.0.0.1"), []string{"DEBUG_ADDR"}},
		{"metrics without a port", with(prod, "METRICS_ADDR", "10.0.0.5"), []string{"METRICS_ADDR"}},
		{"metrics on a named port", with(prod, "METRICS_ADDR", ":metrics"), []string{"METRICS_ADDR"}},
		{"metrics past the last port", with(prod, "METRICS_ADDR", ":65536"), []string{"METRICS_ADDR"}},
		{"budget not a number", with(prod, "MANAGEMENT_API_RPS", "two"), []string{"MANAGEMENT_API_RPS"}},
		{"budget of zero", with(prod, "MANAGEMENT_API_RPS", "0"), []string{"MANAGEMENT_API_RPS"}},
		{"budget not finite", with(prod, "MANAGEMENT_API_RPS", "NaN"), []string{"MANAGEMENT_API_RPS"}},
		{"sizes too small", with(prod, "IDENTITY_CACHE_BYTES", "0", "TOKEN_CACHE_BYTES", "1KiB"), []string{"IDENTITY_CACHE_BYTES", "TOKEN_CACHE_BYTES"}},
		{"management call as long as the request", with(prod, "MANAGEMENT_API_TIMEOUT", "15s"), []string{"MANAGEMENT_API_TIMEOUT"}},
		{"management call longer than a short request", with(prod, "REQUEST_TIMEOUT", "2s", "MANAGEMENT_API_TIMEOUT", "3s"), []string{"MANAGEMENT_API_TIMEOUT"}},
		{"shutdown shorter than a request", with(prod, "SHUTDOWN_TIMEOUT", "10s"), []string{"SHUTDOWN_TIMEOUT"}},
		{"negative drain delay", with(prod, "SHUTDOWN_DRAIN_DELAY", "-1s"), []string{"SHUTDOWN_DRAIN_DELAY"}},
		{"M2M id without secret", with(prod, "AUTH0_MANAGEMENT_CLIENT_ID", "m2m"), []string{"AUTH0_MANAGEMENT_CLIENT_SECRET"}},
		{"M2M secret without id", with(prod, "AUTH0_MANAGEMENT_CLIENT_SECRET", "s"), []string{"AUTH0_MANAGEMENT_CLIENT_ID"}},
		{"M2M previous secret without the app", with(prod, "AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS", "s"), []string{"AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS"}},
		{"custom domain over http", with(prod, "AUTH0_CUSTOM_DOMAIN", "http://login.example.com"), []string{"AUTH0_CUSTOM_DOMAIN"}},
		{"audience is the client id", with(prod, "AUTH0_AUDIENCE", "cid"), []string{"AUTH0_AUDIENCE"}},
		{"audience is an allowed link audience", with(prod, "LINK_ALLOWED_AUDIENCES", "native https://api.example"), []string{"AUTH0_AUDIENCE"}},
		{"scopes with a space, a quote, a backslash", with(prod, "SCOPE_READ", "read identities", "SCOPE_WRITE", `write:"x"\`), []string{"SCOPE_READ", "SCOPE_WRITE"}},
		{"scope not ASCII", with(prod, "SCOPE_READ", "lire:identités"), []string{"SCOPE_READ"}},
		{"bad REQUIRE_SCOPES", with(prod, "REQUIRE_SCOPES", "sometimes"), []string{"REQUIRE_SCOPES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w+":") {
					t.Errorf("error does not name %s:\n%v", w, err)
				}
			}
		})
	}
}

func TestFromEnvSessionsAndRedis(t *testing.T) {
	c, err := FromEnv(env(with(prod, "SESSION_IDLE_TIMEOUT", "10m", "SESSION_LIFETIME", "1h",
		"REDIS_URL", "redis://:secret@127.0.0.1:6379/2", "REDIS_KEY_PREFIX", "app1:")))
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionIdleTimeout != 10*time.Minute || c.SessionLifetime != time.Hour || c.RedisURL != "redis://:secret@127.0.0.1:6379/2" || c.RedisKeyPrefix != "app1:" {
		t.Errorf("got idle %v, lifetime %v, redis %q prefix %q", c.SessionIdleTimeout, c.SessionLifetime, c.RedisURL, c.RedisKeyPrefix)
	}
	// A refused REDIS_URL is named, but its password is not repeated.
	_, err = FromEnv(env(with(prod, "REDIS_URL", "http://:hunter2@127.0.0.1")))
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL:") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %v, want REDIS_URL named without the password", err)
	}
}

func TestFromEnvReauth(t *testing.T) {
	c, err := FromEnv(env(with(prod, "REAUTH_MAX_AGE", "0", "REAUTH_AUTH_TIME_CLAIM", "https://linkbff.example.com/auth_time")))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReauthMaxAge != 0 || c.ReauthAuthTimeClaim != "https://linkbff.example.com/auth_time" {
		t.Errorf("got max age %v, claim %q; want 0 (off) and the namespaced claim", c.ReauthMaxAge, c.ReauthAuthTimeClaim)
	}
}

func TestFromEnvLists(t *testing.T) {
	c, err := FromEnv(env(with(prod, "LINK_ALLOWED_AUDIENCES", "native-1, native-2", "CORS_ALLOWED_ORIGINS", "https://a.example https://b.example",
		"LINK_CONNECTIONS", "Username-Password-Authentication,github google-oauth2 "+strings.Repeat("a", 128))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Username-Password-Authentication", "github", "google-oauth2", strings.Repeat("a", 128)}, c.LinkConnections); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"native-1", "native-2"}, c.LinkAllowedAudiences); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"https://a.example", "https://b.example"}, c.CORSAllowedOrigins); diff != "" {
		t.Error(diff)
	}
}

func TestDefaultLockConfigurationBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://tenant.auth0.com":    "https://cdn.auth0.com",
		"https://tenant.eu.auth0.com": "https://cdn.eu.auth0.com",
		"https://tenant.jp.auth0.com": "https://cdn.jp.auth0.com",
		"https://login.example.com":   "https://cdn.auth0.com",
		"http://127.0.0.1:4000":       "http://127.0.0.1:4000",
	} {
		if got := DefaultLockConfigurationBaseURL(in); got != want {
			t.Errorf("DefaultLockConfigurationBaseURL(%q) = %q, want %q", in, got, want)
		}
	}
	c, err := FromEnv(env(with(prod, "LOCK_CONFIGURATION_BASE_URL", "https://cdn.au.auth0.com/")))
	if err != nil || c.LockConfigurationBaseURL != "https://cdn.au.auth0.com" {
		t.Errorf("explicit setting: %q, %v", c.LockConfigurationBaseURL, err)
	}
	if _, err := FromEnv(env(with(prod, "LOCK_CONFIGURATION_BASE_URL", "cdn"))); err == nil || !strings.Contains(err.Error(), "LOCK_CONFIGURATION_BASE_URL:") {
		t.Errorf("bad setting not named: %v", err)
	}
}

func TestFromEnvRedis(t *testing.T) {
	c, err := FromEnv(env(with(prod, "REDIS_URL", "rediss://:pw@redis.internal:6380/1", "REDIS_KEY_PREFIX", "app1:")))
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisURL != "rediss://:pw@redis.internal:6380/1" || c.RedisKeyPrefix != "app1:" {
		t.Errorf("RedisURL = %q, RedisKeyPrefix = %q", c.RedisURL, c.RedisKeyPrefix)
	}
	// A wrong URL is named, but its password is not repeated.
	_, err = FromEnv(env(with(prod, "REDIS_URL", "redis://:s3cret@redis.internal:port")))
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL:") {
		t.Fatalf("bad REDIS_URL: %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestFromEnvSizes(t *testing.T) {
	for in, want := range map[string]int{"1048576": 1 << 20, "512KiB": 512 << 10, "16MiB": 16 << 20, " 1GiB ": 1 << 30, "65536B": 64 << 10} {
		c, err := FromEnv(env(with(prod, "IDENTITY_CACHE_BYTES", in, "TOKEN_CACHE_BYTES", in)))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if c.IdentityCacheBytes != want || c.TokenCacheBytes != want {
			t.Errorf("%q read as %d and %d, want %d", in, c.IdentityCacheBytes, c.TokenCacheBytes, want)
		}
	}
	c, err := FromEnv(env(with(prod, "TOKEN_CACHE_BYTES", "0")))
	if err != nil || c.TokenCacheBytes != 0 {
		t.Errorf("TOKEN_CACHE_BYTES=0: %d, %v; want 0 (no token cache)", c.TokenCacheBytes, err)
	}
}

func TestFromEnvDebugAddr(t *testing.T) {
	c, err := FromEnv(env(prod))
	if err != nil || c.DebugAddr != "" {
		t.Fatalf("default DEBUG_ADDR = %q, %v; want unset (off)", c.DebugAddr, err)
	}
	for _, addr := range []string{"127.0.0.1:6060", "127.0.0.2:0", "[::1]:6060", "localhost:6060"} {
		c, err := FromEnv(env(with(prod, "DEBUG_ADDR", addr)))
		if err != nil || c.DebugAddr != addr {
			t.Errorf("DEBUG_ADDR=%s: %q, %v", addr, c.DebugAddr, err)
		}
	}
}

// TestFromEnvMetricsAddr: unset, the main listener serves /metrics; set, any
// host:port, since metrics are scraped from another host.
func TestFromEnvMetricsAddr(t *testing.T) {
	c, err := FromEnv(env(prod))
	if err != nil || c.MetricsAddr != "" {
		t.Fatalf("default METRICS_ADDR = %q, %v; want unset", c.MetricsAddr, err)
	}
	for _, addr := range []string{":9090", "0.0.0.0:9090", "10.0.0.5:9090", "[::]:9090", "127.0.0.1:0", "metrics.internal:9090"} {
		c, err := FromEnv(env(with(prod, "METRICS_ADDR", addr)))
		if err != nil || c.MetricsAddr != addr {
			t.Errorf("METRICS_ADDR=%s: %q, %v", addr, c.MetricsAddr, err)
		}
	}
}

// TestTimeoutsFollowTheRequestDeadline: unset, the Management API call timeout and
// the shutdown timeout are derived from REQUEST_TIMEOUT so they never contradict it.
func TestTimeoutsFollowTheRequestDeadline(t *testing.T) {
	c, err := FromEnv(env(with(prod, "REQUEST_TIMEOUT", "2s")))
	if err != nil {
		t.Fatal(err)
	}
	if c.UpstreamTimeout != time.Second || c.ShutdownTimeout != 7*time.Second {
		t.Errorf("REQUEST_TIMEOUT=2s: MANAGEMENT_API_TIMEOUT %v (want 1s), SHUTDOWN_TIMEOUT %v (want 7s)", c.UpstreamTimeout, c.ShutdownTimeout)
	}
	c, err = FromEnv(env(with(prod, "REQUEST_TIMEOUT", "2s", "MANAGEMENT_API_TIMEOUT", "1500ms", "SHUTDOWN_TIMEOUT", "2s", "SHUTDOWN_DRAIN_DELAY", "0s")))
	if err != nil {
		t.Fatal(err)
	}
	if c.UpstreamTimeout != 1500*time.Millisecond || c.ShutdownTimeout != 2*time.Second || c.ShutdownDrainDelay != 0 {
		t.Errorf("explicit settings: %v %v %v", c.UpstreamTimeout, c.ShutdownTimeout, c.ShutdownDrainDelay)
	}
}

func TestManagementApp(t *testing.T) {
	c, err := FromEnv(env(with(prod, "AUTH0_CLIENT_SECRET_PREVIOUS", "old")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ManagementApp{ClientID: "cid", ClientSecret: "secret", PreviousSecret: "old"}, c.Management()); diff != "" {
		t.Errorf("single application (-want +got):\n%s", diff)
	}
	c, err = FromEnv(env(with(prod, "AUTH0_MANAGEMENT_CLIENT_ID", "m2m", "AUTH0_MANAGEMENT_CLIENT_SECRET", "m2m-secret", "AUTH0_MANAGEMENT_CLIENT_SECRET_PREVIOUS", "m2m-old")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ManagementApp{ClientID: "m2m", ClientSecret: "m2m-secret", PreviousSecret: "m2m-old", Separate: true}, c.Management()); diff != "" {
		t.Errorf("separate M2M application (-want +got):\n%s", diff)
	}
}

func TestCustomDomain(t *testing.T) {
	c, err := FromEnv(env(prod))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://tenant.eu.auth0.com/"}, c.Issuers()); diff != "" || c.LoginURL() != c.Auth0URL || c.LockTenant() != "" {
		t.Errorf("without a custom domain: issuers %v, login %q, tenant %q", c.Issuers(), c.LoginURL(), c.LockTenant())
	}
	c, err = FromEnv(env(with(prod, "AUTH0_CUSTOM_DOMAIN", "login.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://login.example.com/", "https://tenant.eu.auth0.com/"}, c.Issuers()); diff != "" {
		t.Errorf("issuers (-want +got):\n%s", diff)
	}
	if c.LoginURL() != "https://login.example.com" || c.LoginIssuer() != "https://login.example.com/" || c.Issuer() != "https://tenant.eu.auth0.com/" {
		t.Errorf("login %q, login issuer %q, issuer %q", c.LoginURL(), c.LoginIssuer(), c.Issuer())
	}
	// The Management API and Lock's CDN stay those of the canonical domain.
	if c.ManagementAudience != "https://tenant.eu.auth0.com/api/v2/" || c.LockConfigurationBaseURL != "https://cdn.eu.auth0.com" || c.LockTenant() != "tenant" {
		t.Errorf("management audience %q, Lock CDN %q, Lock tenant %q", c.ManagementAudience, c.LockConfigurationBaseURL, c.LockTenant())
	}
	c, err = FromEnv(env(with(prod, "AUTH0_DOMAIN", "http://127.0.0.1:4000", "AUTH0_CUSTOM_DOMAIN", "http://localhost:4000")))
	if err != nil || c.LockTenant() != "" {
		t.Errorf("loopback tenant: %q, %v", c.LockTenant(), err)
	}
}

// TestDevelopmentModeOnlyWithoutAnyAuth0Variable: any AUTH0_* setting means a real
// tenant, so one without AUTH0_DOMAIN is an error naming what is set, never the
// development tenant.
func TestDevelopmentModeOnlyWithoutAnyAuth0Variable(t *testing.T) {
	for _, name := range Auth0Variables {
		if name == "AUTH0_DOMAIN" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, domain := range []string{"", "  "} {
				_, err := FromEnv(env(map[string]string{name: "x", "AUTH0_DOMAIN": domain}))
				if err == nil {
					t.Fatalf("AUTH0_DOMAIN=%q with %s set: development mode started", domain, name)
				}
				if msg := err.Error(); !strings.Contains(msg, "AUTH0_DOMAIN:") || !strings.Contains(msg, name) {
					t.Errorf("error does not name AUTH0_DOMAIN and %s: %v", name, err)
				}
			}
		})
	}
	c, err := FromEnv(env(map[string]string{"AUTH0_DOMAIN": " ", "LOG_LEVEL": "debug"}))
	if err != nil || !c.Dev {
		t.Errorf("only a blank AUTH0_DOMAIN: Dev=%v, err %v; want development mode", c.Dev, err)
	}
}

// TestLogFormatFromAgreesWithFromEnv: the format a failure to start is reported in
// is the one FromEnv would have chosen, development mode or not.
func TestLogFormatFromAgreesWithFromEnv(t *testing.T) {
	for _, e := range []map[string]string{
		{},
		{"AUTH0_DOMAIN": " "},
		{"LOG_FORMAT": "json"},
		{"AUTH0_DOMAIN": "tenant.example.com", "AUTH0_AUDIENCE": "https://api.example", "AUTH0_CLIENT_ID": "cid", "AUTH0_CLIENT_SECRET": "s"},
		{"AUTH0_DOMAIN": "tenant.example.com", "AUTH0_AUDIENCE": "https://api.example", "AUTH0_CLIENT_ID": "cid", "AUTH0_CLIENT_SECRET": "s", "LOG_FORMAT": "text"},
	} {
		c, err := FromEnv(env(e))
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		if got := LogFormatFrom(env(e)); got != c.LogFormat {
			t.Errorf("%v: LogFormatFrom = %q, FromEnv's LogFormat %q", e, got, c.LogFormat)
		}
	}
	// Half a real configuration is no development mode: its error is in json.
	if got := LogFormatFrom(env(map[string]string{"AUTH0_CLIENT_ID": "cid"})); got != DefaultLogFormat {
		t.Errorf("with AUTH0_CLIENT_ID only: LogFormatFrom = %q, want %q", got, DefaultLogFormat)
	}
}

// TestAuth0VariablesListsEverySetting: every AUTH0_* variable config.go reads is in
// Auth0Variables, so that none of them can be set and still start the development
// tenant.
func TestAuth0VariablesListsEverySetting(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	reads := regexp.MustCompile(`getenv\("(AUTH0_[A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1)
	if len(reads) == 0 {
		t.Fatal("found no getenv(\"AUTH0_…\") in config.go: the pattern no longer sees how it reads them")
	}
	for _, name := range reads {
		if !slices.Contains(Auth0Variables, name[1]) {
			t.Errorf("config.go reads %s, which Auth0Variables lacks", name[1])
		}
	}
}

func TestDevelopmentModeListensOnLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string // the variable named, or "" for no error
	}{
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:3000", "DEVTENANT_ADDR": "127.0.0.1:4000"}, ""},
		{map[string]string{"LISTEN_ADDR": "localhost:3000", "DEVTENANT_ADDR": "[::1]:4000"}, ""},
		{map[string]string{"LISTEN_ADDR": "127.0.0.2:0"}, ""},
		{map[string]string{"LISTEN_ADDR": ":3000"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "0.0.0.0:3000"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "[::]:3000"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "192.0.2.1:3000"}, "LISTEN_ADDR"},
		{map[string]string{"DEVTENANT_ADDR": ":4000"}, "DEVTENANT_ADDR"},
		{map[string]string{"DEVTENANT_ADDR": "example.com:4000"}, "DEVTENANT_ADDR"},
		{map[string]string{"DEVTENANT_ADDR": "4000"}, "DEVTENANT_ADDR"},
	} {
		_, err := FromEnv(env(tt.env))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want+":")):
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.want)
		}
	}
	// The image's LISTEN_ADDR=:3000 is for a real tenant, where it stays valid, and
	// DEVTENANT_ADDR means nothing there.
	c, err := FromEnv(env(with(prod, "LISTEN_ADDR", ":3000", "DEVTENANT_ADDR", "0.0.0.0:4000")))
	if err != nil || c.ListenAddr != ":3000" {
		t.Errorf("production on :3000: %q, %v", c.ListenAddr, err)
	}
}

// TestWeakenedSettingsNeedAllowInsecure: each setting that weakens a check is refused
// against a real tenant, named, unless LINKBFF_ALLOW_INSECURE is set; then Weakened
// names it for the start-up warning. The development tenant runs with them.
func TestWeakenedSettingsNeedAllowInsecure(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"LINK_REQUIRE_NONCE", "false"},
		{"LINK_REQUIRE_VERIFIED_EMAIL", "false"},
		{"LINK_NONCE_TTL", "16m"},
		{"LINK_MAX_AGE", "61m"},
		{"REQUIRE_SCOPES", "false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(with(prod, tt.name, tt.value)))
			if err == nil || !strings.Contains(err.Error(), tt.name+":") || !strings.Contains(err.Error(), "LINKBFF_ALLOW_INSECURE") {
				t.Fatalf("%s=%s against a real tenant: error %v, want it refused and named", tt.name, tt.value, err)
			}
			c, err := FromEnv(env(with(prod, tt.name, tt.value, "LINKBFF_ALLOW_INSECURE", "1")))
			if err != nil {
				t.Fatalf("with LINKBFF_ALLOW_INSECURE=1: %v", err)
			}
			if w := c.Weakened(); len(w) != 1 || w[0].Variable != tt.name {
				t.Errorf("Weakened() = %v, want %s alone", w, tt.name)
			}
			if _, err := FromEnv(env(map[string]string{tt.name: tt.value})); err != nil {
				t.Errorf("development mode refused %s=%s: %v", tt.name, tt.value, err)
			}
		})
	}
	// At the maxima, nothing is weakened.
	c, err := FromEnv(env(with(prod, "LINK_NONCE_TTL", MaxSecureLinkNonceTTL.String(), "LINK_MAX_AGE", MaxSecureLinkMaxAge.String())))
	if err != nil || len(c.Weakened()) != 0 {
		t.Errorf("at the maxima: Weakened %v, err %v", c.Weakened(), err)
	}
}

func TestCORSOriginsAreExact(t *testing.T) {
	for _, ok := range []string{"https://app.example.com", "https://app.example.com:8443", "http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:8080"} {
		if _, err := FromEnv(env(with(prod, "CORS_ALLOWED_ORIGINS", ok))); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"*", "https://*.example.com", "null",
		"http://app.example.com",          // http beyond loopback
		"https://app.example.com/",        // a path, even a slash
		"https://app.example.com/app",     // a path
		"https://app.example.com?x=1",     // a query
		"https://app.example.com#top",     // a fragment
		"https://user:pw@app.example.com", // userinfo
		"https://App.Example.com",         // never what a browser sends
		"https://app.example.com:443",     // nor this
		"app.example.com", "ftp://a.example", "https://",
	} {
		_, err := FromEnv(env(with(prod, "CORS_ALLOWED_ORIGINS", bad)))
		if err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS:") {
			t.Errorf("%q accepted (err %v)", bad, err)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := FromEnv(env(with(prod, "TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7 2001:db8::/32 10.1.2.3/8")))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if diff := cmp.Diff(want, c.TrustedProxies, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Error(diff)
	}
}

func TestRateLimitsZeroDisables(t *testing.T) {
	c, err := FromEnv(env(with(prod, "RATE_LIMIT_USER_WRITES_PER_MINUTE", "0", "RATE_LIMIT_USER_READS_PER_MINUTE", "5",
		"RATE_LIMIT_IP_WRITES_PER_MINUTE", "0", "RATE_LIMIT_IP_READS_PER_MINUTE", "7")))
	if err != nil {
		t.Fatal(err)
	}
	if want := (RateLimits{UserReads: 5, IPReads: 7}); c.RateLimits != want {
		t.Errorf("RateLimits = %+v, want %+v", c.RateLimits, want)
	}
}

func TestFromEnvScopesAndClients(t *testing.T) {
	c, err := FromEnv(env(with(prod, "SCOPE_READ", "identities:read", "SCOPE_WRITE", "identities:write",
		"REQUIRE_SCOPES", "false", "LINKBFF_ALLOW_INSECURE", "1", "ALLOWED_CLIENT_IDS", "spa-1, mobile-2")))
	if err != nil {
		t.Fatal(err)
	}
	if c.ScopeRead != "identities:read" || c.ScopeWrite != "identities:write" || c.RequireScopes {
		t.Errorf("scopes %q %q, required %v", c.ScopeRead, c.ScopeWrite, c.RequireScopes)
	}
	if diff := cmp.Diff([]string{"spa-1", "mobile-2"}, c.AllowedClientIDs); diff != "" {
		t.Error(diff)
	}
}
