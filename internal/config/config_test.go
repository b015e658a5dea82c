package config

import (
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
		RequestTimeout: 15 * time.Second, ShutdownTimeout: 10 * time.Second, LogFormat: "json",
		SessionIdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour, RedisKeyPrefix: "linkbff:",
		IdentityCacheBytes: 16 << 20, TokenCacheBytes: 8 << 20, ManagementAPIRPS: 2,
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
	if !c.Dev || c.ListenAddr != "127.0.0.1:3000" || c.LogFormat != "text" {
		t.Errorf("dev defaults: Dev=%v ListenAddr=%q LogFormat=%q", c.Dev, c.ListenAddr, c.LogFormat)
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
		{"bad management audience", with(prod, "AUTH0_MANAGEMENT_AUDIENCE", "api/v2"), []string{"AUTH0_MANAGEMENT_AUDIENCE"}},
		{"zero max age", with(prod, "LINK_MAX_AGE", "0s"), []string{"LINK_MAX_AGE"}},
		{"Redis URL without scheme", with(prod, "REDIS_URL", "127.0.0.1:6379"), []string{"REDIS_URL"}},
		{"Redis URL of another scheme", with(prod, "REDIS_URL", "http://127.0.0.1:6379"), []string{"REDIS_URL"}},
		{"Redis URL with a bad database", with(prod, "REDIS_URL", "redis://127.0.0.1:6379/zero"), []string{"REDIS_URL"}},
		{"bad session durations", with(prod, "SESSION_IDLE_TIMEOUT", "0s", "SESSION_LIFETIME", "-1h"), []string{"SESSION_IDLE_TIMEOUT", "SESSION_LIFETIME"}},
		{"idle timeout past the lifetime", with(prod, "SESSION_IDLE_TIMEOUT", "2h", "SESSION_LIFETIME", "1h"), []string{"SESSION_IDLE_TIMEOUT"}},
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
		{"budget not a number", with(prod, "MANAGEMENT_API_RPS", "two"), []string{"MANAGEMENT_API_RPS"}},
		{"budget of zero", with(prod, "MANAGEMENT_API_RPS", "0"), []string{"MANAGEMENT_API_RPS"}},
		{"budget not finite", with(prod, "MANAGEMENT_API_RPS", "NaN"), []string{"MANAGEMENT_API_RPS"}},
		{"sizes too small", with(prod, "IDENTITY_CACHE_BYTES", "0", "TOKEN_CACHE_BYTES", "1KiB"), []string{"IDENTITY_CACHE_BYTES", "TOKEN_CACHE_BYTES"}},
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
