package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// LoginTime reads the time of the login (a number of seconds since the epoch) from
// claim of the request's bearer token: "auth_time" (RFC 9470), or the namespaced
// claim an Auth0 Action sets, since Auth0 does not put auth_time in access tokens
// and lets no Action set it. present reports whether the token carries the claim;
// err, that it does but not as a number.
//
// Call it only for a request that Bearer.Middleware authenticated: it reads the
// payload of the token in the Authorization header, which the middleware verified,
// without verifying it again.
func LoginTime(r *http.Request, claim string) (at time.Time, present bool, err error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return time.Time{}, false, errors.New("no bearer token")
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return time.Time{}, false, errors.New("the bearer token is not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false, fmt.Errorf("the bearer token's payload: %w", err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, false, fmt.Errorf("the bearer token's claims: %w", err)
	}
	raw, ok := claims[claim]
	if !ok {
		return time.Time{}, false, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, true, fmt.Errorf("claim %s is not a number of seconds: %s", claim, raw)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > math.MaxInt32*4 {
		return time.Time{}, true, fmt.Errorf("claim %s is not a time: %s", claim, raw)
	}
	return time.Unix(int64(f), 0), true, nil
}
