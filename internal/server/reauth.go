package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/webauth"
)

// requireRecentLogin guards the changes that decide how a person can log in (link,
// unlink): the login behind the request must be younger than Config.ReauthMaxAge,
// else 401 reauth_required before any call to Auth0. A session's login time is its
// ID token's auth_time. A bearer token is held to the rule only when it carries
// Config.AuthTimeClaim: Auth0 puts no auth_time in access tokens unless an Action
// adds one, and a token without it says nothing about its login. A session gets the
// problem's login_url, which forces a new login and comes back to the page; a
// bearer client gets the RFC 9470 challenge (insufficient_user_authentication, with
// max_age) and logs in again its own way.
func (s *server) requireRecentLogin(next http.Handler) http.Handler {
	maxAge := s.cfg.ReauthMaxAge
	if maxAge <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		var (
			at       time.Time
			loginURL string
		)
		switch {
		case p.Method == webauth.MethodSession && s.deps.Web != nil:
			u, _ := s.deps.Web.User(r.Context())
			at, loginURL = u.AuthTime, webauth.ReauthURL("/")
		default:
			t, present, err := auth.LoginTime(r, s.cfg.AuthTimeClaim)
			if !present {
				next.ServeHTTP(w, r)
				return
			}
			if err != nil {
				s.fail(w, r, reauthRequired(maxAge, "", fmt.Sprintf("The access token's %s is not a time; log in again.", s.cfg.AuthTimeClaim), err))
				return
			}
			at = t
		}
		if age := s.now().Sub(at); age > maxAge {
			detail := fmt.Sprintf("Linking and unlinking need a login of the last %s; this one is older. Log in again, then retry.", maxAge)
			s.fail(w, r, reauthRequired(maxAge, loginURL, detail, nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reauthRequired is the 401 of a login that is too old, with the challenge of RFC
// 9470 §3 and, for a browser session, where to log in again.
func reauthRequired(maxAge time.Duration, loginURL, detail string, cause error) *problem.Error {
	p := problem.Wrap(cause, fault.ReauthRequired, detail)
	p.LoginURL = loginURL
	return p.WithHeader("WWW-Authenticate", `Bearer realm="linkbff", error="insufficient_user_authentication", `+
		`error_description="A more recent login is required", max_age="`+strconv.FormatInt(int64(maxAge/time.Second), 10)+`"`)
}
