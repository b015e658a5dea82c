package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
)

// AddrKey is a limit's counter key of a client address.
func AddrKey(name string, a netip.Addr) string { return (&limit{name: name}).addrKey(a) }

// ResolveClient finds the request's client address (Client) and keeps it in the
// request's context for ClientAddr, as linkbff's server does in a request context of
// its own.
func (l *Limits) ResolveClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := l.Client(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, &a)))
	})
}
