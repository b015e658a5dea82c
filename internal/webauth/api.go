package webauth

import (
	"net/http"

	"github.com/linkbff/linkbff/internal/auth"
)

// MethodSession is the auth.Principal Method of a request authenticated by the
// session cookie.
const MethodSession = "session"

// Authenticate authenticates an API request by the session cookie, storing the
// session's user as the auth.Principal the handlers read. It goes after the bearer
// middleware and leaves alone a request that is already authenticated or carries an
// Authorization header at all: a bearer token wins over the cookie, and an invalid
// one is not rescued by it. Requests without the cookie never touch the store.
func (w *Web) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, ok := auth.FromContext(r.Context()); ok || r.Header["Authorization"] != nil {
			next.ServeHTTP(rw, r)
			return
		}
		if _, err := r.Cookie(w.sessions.Cookie.Name); err != nil {
			next.ServeHTTP(rw, r)
			return
		}
		ctx, err := w.load(r)
		if err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		r = r.WithContext(ctx)
		u, ok := w.User(ctx)
		if !ok {
			next.ServeHTTP(rw, r) // expired, or only waiting for a login: unauthenticated
			return
		}
		// Use restarts the idle timeout. The handlers behind never change the session,
		// so it is saved now, before they answer.
		if err := w.save(rw, r); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		p := auth.Principal{Subject: u.Subject, ClientID: w.cfg.ClientID, Scopes: w.cfg.SessionScopes, Method: MethodSession}
		next.ServeHTTP(rw, r.WithContext(auth.WithPrincipal(ctx, p)))
	})
}

// RequireCSRF refuses a state-changing request authenticated by the session cookie
// unless it passes Go's http.CrossOriginProtection (Sec-Fetch-Site, else Origin
// against Host) and carries "X-CSRF: 1", a header no cross-site form can send and no
// cross-origin script can send without a CORS preflight that linkbff never grants.
// Bearer requests need neither: a browser does not attach a bearer token by itself.
func (w *Web) RequireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok || p.Method != MethodSession || safeMethod(r.Method) {
			next.ServeHTTP(rw, r)
			return
		}
		if err := w.csrf.Check(r); err != nil {
			p := csrfFailed("This request comes from another site.")
			p.Cause = err
			w.cfg.OnError(rw, r, p)
			return
		}
		if v := r.Header.Values("X-CSRF"); len(v) != 1 || v[0] != "1" {
			w.cfg.OnError(rw, r, csrfFailed("A request authenticated by the session cookie must carry the header X-CSRF: 1."))
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
