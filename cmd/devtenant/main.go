// Command devtenant runs the Auth0-compatible development tenant on its own, for
// running linkbff (or any Auth0 client) against it from another process or container.
// It is a development tool: in-memory, demo credentials, test knobs under /__dev/,
// loopback only unless -allow-remote.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/linkbff/linkbff/internal/devtenant"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devtenant:", err)
		os.Exit(1)
	}
}

// config is the command line, with defaults from the environment (flags win).
type config struct {
	addr        string
	seedFile    string
	issuer      string
	allowRemote bool
	logLevel    slog.Level
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("devtenant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.addr, "addr", envOr(getenv, "DEVTENANT_ADDR", "127.0.0.1:4000"), "listen address (env DEVTENANT_ADDR)")
	fs.StringVar(&c.seedFile, "seed", getenv("DEVTENANT_SEED"), "seed file (JSON); empty: the built-in demo seed (env DEVTENANT_SEED)")
	fs.StringVar(&c.issuer, "issuer", getenv("DEVTENANT_ISSUER"),
		"public issuer URL when clients reach the tenant through a proxy or container port (env DEVTENANT_ISSUER); empty: http://{addr}/")
	allowRemote, _ := strconv.ParseBool(getenv("DEVTENANT_ALLOW_REMOTE"))
	fs.BoolVar(&c.allowRemote, "allow-remote", allowRemote, "allow a non-loopback -addr (env DEVTENANT_ALLOW_REMOTE)")
	level := fs.String("log-level", envOr(getenv, "DEVTENANT_LOG_LEVEL", "info"), "debug, info, warn or error; debug logs every request (env DEVTENANT_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: devtenant [flags]\n\nRuns the Auth0-compatible DEVELOPMENT tenant. Not Auth0; never use it in production.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("-log-level %q: want debug, info, warn or error", *level)
	}
	return c, checkAddr(c.addr, c.allowRemote)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// checkAddr refuses to listen beyond loopback unless asked to: the tenant hands out
// tokens for demo passwords and anyone can mint them under /__dev/. An empty host
// (":4000") listens on every interface, so it counts as remote.
func checkAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address: this development tenant has demo passwords and lets anyone mint tokens; pass -allow-remote to expose it anyway", addr)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	seed := devtenant.DemoSeed()
	if cfg.seedFile != "" {
		if seed, err = devtenant.LoadSeed(cfg.seedFile); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	tn, err := devtenant.Start(devtenant.Options{Addr: cfg.addr, Issuer: cfg.issuer, Seed: &seed, Logger: log})
	if err != nil {
		return err
	}
	printBanner(stdout, tn, seed, cfg.allowRemote)
	<-ctx.Done()
	log.Info("devtenant: shutting down")
	return tn.Close()
}

// printBanner tells whoever started the tenant what it is and how to use it. Secrets
// and passwords are printed on purpose: they are demo values of a development tool.
func printBanner(w io.Writer, tn *devtenant.Tenant, seed devtenant.Seed, remote bool) {
	rule := strings.Repeat("=", 78)
	fmt.Fprintf(w, "%s\n  DEVELOPMENT tenant: Auth0-compatible, but NOT Auth0. Never use it in production.\n", rule)
	fmt.Fprintf(w, "  In-memory, demo passwords, anyone can mint tokens under /__dev/.\n")
	if remote {
		fmt.Fprintf(w, "  WARNING: -allow-remote is set; this tenant may be reachable from other machines.\n")
	}
	fmt.Fprintf(w, "%s\n", rule)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "issuer:\t%s\n", tn.Issuer())
	fmt.Fprintf(tw, "listening on:\t%s\n", tn.Addr())
	fmt.Fprintf(tw, "discovery:\t%s.well-known/openid-configuration\n", tn.Issuer())
	fmt.Fprintf(tw, "management API audience:\t%s\n", tn.ManagementAudience())
	tw.Flush()

	fmt.Fprintln(w, "\nclients:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range seed.Clients {
		secret := "public client, no secret"
		if c.ClientSecret != "" {
			secret = "client_secret: " + c.ClientSecret
		}
		fmt.Fprintf(tw, "  %s\t(%s)\t%s\n", c.ClientID, c.AppType, secret)
	}
	tw.Flush()
	printLogins(w, seed)
	fmt.Fprintf(w, "\nready: %s\n", tn.URL())
}

func printLogins(w io.Writer, seed devtenant.Seed) {
	fmt.Fprintln(w, "\ndemo logins:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range seed.Users {
		if u.Password != "" {
			fmt.Fprintf(tw, "  database\t%s / %s\t%s\n", u.Email, u.Password, u.UserID)
		}
	}
	for _, u := range seed.Users {
		if u.Password == "" {
			fmt.Fprintf(tw, "  %s\t%s (pick on the %s login page)\t%s\n", u.Connection, u.Email, u.Connection, u.UserID)
		}
	}
	tw.Flush()
}
