package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/devtenant"
)

// startDevTenant runs the development tenant in-process (AUTH0_DOMAIN unset) and
// points cfg at it: its regular web application is the BFF, its API the audience.
// The application's callbacks, origins and back-channel logout URL are extended with
// cfg.BaseURL so the demo works on whatever address linkbff listens.
func startDevTenant(cfg *config.Config, addr string) (*devtenant.Tenant, devtenant.Seed, error) {
	seed := devtenant.DemoSeed()
	i := slices.IndexFunc(seed.Clients, func(c devtenant.Client) bool { return c.AppType == "regular_web" })
	if i < 0 || len(seed.APIs) == 0 {
		return nil, seed, fmt.Errorf("development tenant: the demo seed needs a regular_web client and an API")
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

	t, err := devtenant.Start(devtenant.Options{Addr: addr, Seed: &seed})
	if err != nil {
		return nil, seed, fmt.Errorf("development tenant: %w", err)
	}
	cfg.Auth0URL = t.URL()
	cfg.ClientID = app.ClientID
	cfg.ClientSecret = app.ClientSecret
	if cfg.Audience == "" {
		cfg.Audience = seed.APIs[0].Identifier
	}
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
		return nil, seed, fmt.Errorf("configuration with the development tenant:\n%w", err)
	}
	return t, seed, nil
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// printBanner tells a person where linkbff listens (and its public URL when BASE_URL
// names another, as behind a proxy) and, in development, how to sign in.
func printBanner(w io.Writer, cfg config.Config, listenURL string, tenant *devtenant.Tenant, seed devtenant.Seed) {
	fmt.Fprintf(w, "linkbff listening on %s\n", listenURL)
	if cfg.BaseURL != listenURL {
		fmt.Fprintf(w, "public URL (BASE_URL): %s\n", cfg.BaseURL)
	}
	if tenant == nil {
		fmt.Fprintf(w, "Auth0 tenant: %s (audience %s)\n", cfg.Auth0URL, cfg.Audience)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nDEVELOPMENT MODE: AUTH0_DOMAIN is unset, so an embedded development tenant\n")
	fmt.Fprintf(&b, "(not Auth0, in memory, for local use only) runs at %s\n", tenant.URL())
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
	fmt.Fprintf(&b, "    -d '{\"user_id\":\"auth0|alice\",\"client_id\":\"%s\",\"audience\":\"%s\"}'\n", cfg.ClientID, cfg.Audience)
	fmt.Fprint(w, b.String())
}
