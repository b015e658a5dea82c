//go:build !nodevtenant

package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/devtenant"
)

// embeddedTenant is the development tenant running in this process.
type embeddedTenant struct {
	tenant *devtenant.Tenant
	seed   devtenant.Seed
}

func (e *embeddedTenant) Close() error { return e.tenant.Close() }

// startDevTenant runs the development tenant in-process (no AUTH0_* variable set),
// on cfg.DevTenantAddr (loopback, as config checked), and points cfg at it: its
// regular web application is the BFF, its API the audience. The application's
// callbacks, origins and back-channel logout URL are extended with cfg.BaseURL so
// the demo works on whatever address linkbff listens.
func startDevTenant(cfg *config.Config) (devMode, error) {
	seed := devtenant.DemoSeed()
	i := slices.IndexFunc(seed.Clients, func(c devtenant.Client) bool { return c.AppType == "regular_web" })
	if i < 0 || len(seed.APIs) == 0 {
		return nil, fmt.Errorf("development tenant: the demo seed needs a regular_web client and an API")
	}
	app := &seed.Clients[i]
	app.Callbacks = appendNew(app.Callbacks, cfg.BaseURL+"/auth/callback", cfg.BaseURL+"/")
	app.AllowedLogoutURLs = appendNew(app.AllowedLogoutURLs, cfg.BaseURL+"/")
	app.WebOrigins = appendNew(app.WebOrigins, cfg.BaseURL)
	// The tenant tells linkbff when a person signs out there (back-channel logout).
	if app.OIDCLogout == nil {
		app.OIDCLogout = &devtenant.OIDCLogout{}
	}
	app.OIDCLogout.BackchannelLogoutURLs = appendNew(app.OIDCLogout.BackchannelLogoutURLs, cfg.BaseURL+"/auth/backchannel-logout")

	t, err := devtenant.Start(devtenant.Options{Addr: cfg.DevTenantAddr, Seed: &seed})
	if err != nil {
		return nil, fmt.Errorf("development tenant: %w", err)
	}
	cfg.Auth0URL = t.URL()
	cfg.ClientID = app.ClientID
	cfg.ClientSecret = app.ClientSecret
	cfg.Audience = seed.APIs[0].Identifier
	cfg.ManagementAudience = t.ManagementAudience()
	if cfg.LockConfigurationBaseURL == "" {
		cfg.LockConfigurationBaseURL = t.URL()
	}
	if len(cfg.LinkConnections) == 0 {
		// The tenant enables every connection for every client; the page offers them all.
		for _, c := range seed.Connections {
			cfg.LinkConnections = append(cfg.LinkConnections, c.Name)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Close()
		return nil, fmt.Errorf("configuration with the development tenant:\n%w", err)
	}
	return &embeddedTenant{tenant: t, seed: seed}, nil
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// banner tells a person, in development, how to sign in.
func (e *embeddedTenant) banner(w io.Writer, cfg config.Config) {
	tenant, seed := e.tenant, e.seed
	var b strings.Builder
	fmt.Fprintf(&b, "\nDEVELOPMENT MODE: no AUTH0_* variable is set, so an embedded development tenant\n")
	fmt.Fprintf(&b, "(not Auth0, in memory, loopback only) runs at %s\n", tenant.URL())
	fmt.Fprintf(&b, "  application (client id): %s\n  API audience:            %s\n", cfg.ClientID, cfg.Audience)
	fmt.Fprintf(&b, "Demo logins:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, u := range seed.Users {
		if u.Password != "" {
			fmt.Fprintf(tw, "  %s\tpassword %s\t%s\n", u.Email, u.Password, u.UserID)
		} else {
			fmt.Fprintf(tw, "  %s\tpick on the %s page\t%s\n", u.Name, u.Connection, u.UserID)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "API: %s/me/identities (contract: %s/openapi.yaml). An access token for curl:\n", cfg.BaseURL, cfg.BaseURL)
	fmt.Fprintf(&b, "  curl -s -X POST %s/__dev/tokens -H 'Content-Type: application/json' \\\n", tenant.URL())
	fmt.Fprintf(&b, "    -d '%s'\n", demoTokenBody(cfg))
	fmt.Fprint(w, b.String())
}

// demoTokenBody is the body of the token request the banner and its record show:
// an access token of the demo user alice for linkbff's API, with both scopes.
func demoTokenBody(cfg config.Config) string {
	return fmt.Sprintf(`{"user_id":"auth0|alice","client_id":"%s","audience":"%s","scope":"openid %s %s"}`,
		cfg.ClientID, cfg.Audience, cfg.ScopeRead, cfg.ScopeWrite)
}

// demoLogin is one demo user of the banner's record.
type demoLogin struct {
	Email      string `json:"email,omitempty"`
	Password   string `json:"password,omitempty"`
	Name       string `json:"name,omitempty"` // a social user: picked by name on the connection's page
	Connection string `json:"connection"`
	UserID     string `json:"user_id"`
}

// record is the banner as one log record (LOG_FORMAT=json), a warning: a log
// pipeline should notice a linkbff that does not run against Auth0.
func (e *embeddedTenant) record(log *slog.Logger, cfg config.Config) {
	tenant, seed := e.tenant, e.seed
	logins := make([]demoLogin, 0, len(seed.Users))
	for _, u := range seed.Users {
		l := demoLogin{Connection: u.Connection, UserID: u.UserID}
		if u.Password != "" {
			l.Email, l.Password = u.Email, u.Password
		} else {
			l.Name = u.Name
		}
		logins = append(logins, l)
	}
	log.Warn("DEVELOPMENT MODE: no AUTH0_* variable is set, so an embedded development tenant (not Auth0, in memory, loopback only) runs",
		"tenant_url", tenant.URL(),
		"client_id", cfg.ClientID,
		"audience", cfg.Audience,
		"api", cfg.BaseURL+"/me/identities",
		"contract", cfg.BaseURL+"/openapi.yaml",
		"demo_logins", logins,
		"token_request", fmt.Sprintf(`curl -s -X POST %s/__dev/tokens -H 'Content-Type: application/json' -d '%s'`, tenant.URL(), demoTokenBody(cfg)))
}
