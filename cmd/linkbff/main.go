// Command linkbff is the account-linking backend-for-frontend for Auth0: a JSON API
// over /me/identities, the page that runs Auth0 Lock, and, when no AUTH0_* variable is set,
// an embedded development tenant so the whole flow runs offline.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "linkbff:", err)
		os.Exit(1)
	}
}
