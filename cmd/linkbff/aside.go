package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// listenAside binds a listener of its own beside the main one, at addr of variable
// (DEBUG_ADDR, METRICS_ADDR); nil when addr is empty. run binds these with the main
// listener, before it announces anything or asks Auth0: an address in use fails the
// start at once instead of after linkbff said it listens.
func listenAside(variable, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s %s: %w", variable, addr, err)
	}
	return ln, nil
}

// serveAside serves handler on ln, the listener of variable (see listenAside), until
// stop is called; writeTimeout 0 is none. Serving that ends for another reason than
// stop (the listener failed) is logged as an error naming variable: linkbff goes on
// serving its API, but what that listener served is gone. stop closes the server
// and returns once it has stopped serving.
func serveAside(variable string, ln net.Listener, handler http.Handler, writeTimeout time.Duration, log *slog.Logger) (stop func()) {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("a listener of its own stopped serving", "variable", variable, "addr", ln.Addr().String(), "err", err)
		}
	}()
	return func() {
		_ = srv.Close()
		<-done
	}
}
