package mgmt

import (
	"context"
	"net/http"
)

// endpoints are the endpoints Client calls, in the order Endpoints lists them, with
// the path template of each: the one list that names Management API requests, for
// metrics (Observer) and trace spans (Operation) alike.
var endpoints = []struct {
	ep       Endpoint
	template string
}{
	{EndpointGetUser, "/api/v2/users/{id}"},                                // GET
	{EndpointPatchUser, "/api/v2/users/{id}"},                              // PATCH
	{EndpointUsersByEmail, "/api/v2/users-by-email"},                       // GET
	{EndpointLink, "/api/v2/users/{id}/identities"},                        // POST
	{EndpointUnlink, "/api/v2/users/{id}/identities/{provider}/{user_id}"}, // DELETE
	{EndpointToken, "/oauth/token"},                                        // POST, client credentials
}

// Endpoints lists every Endpoint the client calls, the token request last: for the
// help text of metrics that are labelled by endpoint.
func Endpoints() []Endpoint {
	out := make([]Endpoint, len(endpoints))
	for i, e := range endpoints {
		out[i] = e.ep
	}
	return out
}

// endpointKey is the context key under which the client marks each request it
// sends with its Endpoint (withEndpoint).
type endpointKey struct{}

// withEndpoint marks ctx, that of a request about to be sent, as a request to ep.
func withEndpoint(ctx context.Context, ep Endpoint) context.Context {
	return context.WithValue(ctx, endpointKey{}, ep)
}

// Operation names a request this client sends, for its trace span, with the
// Endpoint the metrics use ("get_user", "link", "token", ...), and gives its path as
// a template without the identifiers the real path carries ("/api/v2/users/{id}");
// "", "" for a request it does not send. It reads the Endpoint the client put in
// the request's context, the same one it tells the Observer: never the path, the
// query (an email address) or the headers (the token).
func Operation(r *http.Request) (name, pathTemplate string) {
	ep, ok := r.Context().Value(endpointKey{}).(Endpoint)
	if !ok {
		return "", ""
	}
	for _, e := range endpoints {
		if e.ep == ep {
			return string(ep), e.template
		}
	}
	return "", ""
}
