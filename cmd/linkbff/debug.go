package main

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler is net/http/pprof, served on DEBUG_ADDR only (serveAside), which
// config has checked is a loopback address; the main listener never serves it. It
// needs no write timeout of the server: a CPU profile or trace streams for as long
// as it was asked (?seconds=30).
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, allocs...
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
