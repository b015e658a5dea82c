package devtenant

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Seed is the initial content of a tenant: what an Auth0 administrator would have set up
// in the dashboard (applications, APIs, connections) plus the users that exist.
type Seed struct {
	Clients     []Client     `json:"clients"`
	APIs        []API        `json:"apis"`
	Connections []Connection `json:"connections"`
	Users       []User       `json:"users"`
}

// Client is an Auth0 application.
type Client struct {
	ClientID          string   `json:"client_id"`
	ClientSecret      string   `json:"client_secret,omitempty"`
	Name              string   `json:"name"`
	AppType           string   `json:"app_type"` // regular_web, spa, native, non_interactive
	Callbacks         []string `json:"callbacks,omitempty"`
	AllowedLogoutURLs []string `json:"allowed_logout_urls,omitempty"`
	WebOrigins        []string `json:"web_origins,omitempty"`
	GrantTypes        []string `json:"grant_types,omitempty"`
	// ManagementScopes are the Management API scopes granted to this client for the
	// client credentials grant (the "Machine to Machine Applications" tab in Auth0).
	ManagementScopes []string `json:"management_scopes,omitempty"`
	// OIDCLogout holds the back-channel logout URLs (Auth0's oidc_logout).
	OIDCLogout *OIDCLogout `json:"oidc_logout,omitempty"`
	// APIGrants are the scopes granted per API identifier for client credentials.
	// A client with no entry for an API may still ask for it with all the API's scopes
	// when it is a first-party regular_web or non_interactive client (dev convenience).
	APIGrants map[string][]string `json:"api_grants,omitempty"`
}

// API is an Auth0 resource server.
type API struct {
	Identifier string   `json:"identifier"`
	Name       string   `json:"name,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
}

// Connection is an Auth0 connection (identity provider).
type Connection struct {
	Name     string `json:"name"`
	Strategy string `json:"strategy"` // auth0, github, google-oauth2, ...
}

// User is a seeded user. A database user has a password; a social user has a
// user_id such as "github|4242" and none.
type User struct {
	UserID        string         `json:"user_id"`
	Connection    string         `json:"connection"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified"`
	Password      string         `json:"password,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

//go:embed demo_seed.json
var demoSeed []byte

// DemoSeed returns the built-in demo seed (a fresh copy on every call).
func DemoSeed() Seed {
	s, err := ParseSeed(demoSeed)
	if err != nil {
		panic("devtenant: built-in seed is invalid: " + err.Error())
	}
	return s
}

// LoadSeed reads and validates a seed file.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, err
	}
	s, err := ParseSeed(b)
	if err != nil {
		return Seed{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSeed decodes and validates a seed document. Unknown fields are errors, so a
// typo in a seed file does not silently drop a setting.
func ParseSeed(b []byte) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("seed: %w", err)
	}
	return s, s.Validate()
}

// Validate checks the references inside a seed.
func (s Seed) Validate() error {
	conns := map[string]string{}
	for _, c := range s.Connections {
		if c.Name == "" || c.Strategy == "" {
			return fmt.Errorf("seed: connection needs name and strategy")
		}
		conns[c.Name] = c.Strategy
	}
	ids := map[string]bool{}
	for _, c := range s.Clients {
		if c.ClientID == "" {
			return fmt.Errorf("seed: client without client_id")
		}
		if ids[c.ClientID] {
			return fmt.Errorf("seed: duplicate client_id %q", c.ClientID)
		}
		ids[c.ClientID] = true
		switch c.AppType {
		case "regular_web", "spa", "native", "non_interactive":
		default:
			return fmt.Errorf("seed: client %q: app_type %q is not regular_web, spa, native or non_interactive", c.ClientID, c.AppType)
		}
		if c.OIDCLogout != nil {
			for _, u := range c.OIDCLogout.BackchannelLogoutURLs {
				if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
					return fmt.Errorf("seed: client %q: back-channel logout URL %q is not an absolute http(s) URL", c.ClientID, u)
				}
			}
		}
	}
	users := map[string]bool{}
	for _, u := range s.Users {
		provider, _, ok := strings.Cut(u.UserID, "|")
		if !ok || provider == "" {
			return fmt.Errorf("seed: user_id %q must look like provider|id", u.UserID)
		}
		if users[u.UserID] {
			return fmt.Errorf("seed: duplicate user_id %q", u.UserID)
		}
		users[u.UserID] = true
		strategy, ok := conns[u.Connection]
		if !ok {
			return fmt.Errorf("seed: user %q: unknown connection %q", u.UserID, u.Connection)
		}
		if want := providerOf(strategy); provider != want {
			return fmt.Errorf("seed: user %q: provider %q does not match connection %q (strategy %s)", u.UserID, provider, u.Connection, strategy)
		}
		if strategy == "auth0" && u.Password == "" {
			return fmt.Errorf("seed: database user %q needs a password", u.UserID)
		}
		if strategy != "auth0" && u.Password != "" {
			return fmt.Errorf("seed: social user %q cannot have a password", u.UserID)
		}
	}
	for _, a := range s.APIs {
		if a.Identifier == "" {
			return fmt.Errorf("seed: api without identifier")
		}
	}
	return nil
}

// providerOf maps a connection strategy to the provider prefix of user ids.
func providerOf(strategy string) string { return strategy }

func isSocialStrategy(strategy string) bool {
	return !slices.Contains([]string{"auth0", "email", "sms", "samlp", "waad", "adfs", "ad", "oidc", "okta"}, strategy)
}
