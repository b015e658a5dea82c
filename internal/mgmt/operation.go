package mgmt

import (
	"net/http"
	"strings"
)

// Operation names a request this client sends, for its trace span, with the
// Endpoint the metrics use ("get_user", "link", "token", ...), and gives its path as a template without the identifiers
// the real path carries ("/api/v2/users/{id}"); "", "" for a request it does not
// send. It reads the method and the path only: never the query (an email address)
// or the headers (the token).
func Operation(r *http.Request) (name, pathTemplate string) {
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(seg) == 2 && seg[0] == "oauth" && seg[1] == "token":
		return string(EndpointToken), "/oauth/token"
	case len(seg) < 3 || seg[0] != "api" || seg[1] != "v2":
		return "", ""
	case r.Method == http.MethodGet && len(seg) == 3 && seg[2] == "users-by-email":
		return string(EndpointUsersByEmail), "/api/v2/users-by-email"
	case seg[2] != "users":
		return "", ""
	case len(seg) == 4 && r.Method == http.MethodGet:
		return string(EndpointGetUser), "/api/v2/users/{id}"
	case len(seg) == 4 && r.Method == http.MethodPatch:
		return string(EndpointPatchUser), "/api/v2/users/{id}"
	case len(seg) == 5 && seg[4] == "identities" && r.Method == http.MethodPost:
		return string(EndpointLink), "/api/v2/users/{id}/identities"
	case len(seg) == 7 && seg[4] == "identities" && r.Method == http.MethodDelete:
		return string(EndpointUnlink), "/api/v2/users/{id}/identities/{provider}/{user_id}"
	}
	return "", ""
}
