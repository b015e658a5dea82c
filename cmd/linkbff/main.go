// Command linkbff is the account-linking backend-for-frontend for Auth0: a JSON API
// over /me/identities, the page that runs Auth0 Lock, and, when no AUTH0_* variable is set,
// an embedded development tenant so the whole flow runs offline.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/linkbff/linkbff/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		reportExit(os.Stderr, os.Getenv, err)
		os.Exit(1)
	}
}

// reportExit says why linkbff could not start or stopped: one JSON record when the
// log is JSON (LOG_FORMAT, or its default), so that every line of the output parses,
// else a line for a person.
func reportExit(w io.Writer, getenv func(string) string, err error) {
	if config.LogFormatFrom(getenv) == "json" {
		slog.New(slog.NewJSONHandler(w, nil)).Error("linkbff stopped", "err", err.Error())
		return
	}
	fmt.Fprintln(w, "linkbff:", err)
}
