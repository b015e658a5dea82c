// Package linkbff holds what belongs to the module as a whole: the API
// contract, openapi.yaml, embedded so the server can serve it at
// GET /openapi.yaml. It lives at the module root because go:embed cannot
// reach a parent directory; the Go code generated from the contract is in
// package api.
package linkbff

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI 3 document of linkbff's HTTP API, as YAML.
// Each call returns a fresh copy, so callers may keep or modify it.
func OpenAPISpec() []byte {
	return append([]byte(nil), openAPISpec...)
}

// TenantPlaceholder is the base URL openapi.yaml gives the Auth0 tenant in its
// security schemes (where a client obtains a token).
const TenantPlaceholder = "https://YOUR_TENANT.auth0.com"

// OpenAPISpecFor returns the OpenAPI document with the tenant's base URL (scheme and
// host, no trailing slash: "https://example.eu.auth0.com") in place of
// TenantPlaceholder, as GET /openapi.yaml serves it: Swagger UI, Postman and other
// tools importing it then find the tenant's authorize, token and discovery URLs.
func OpenAPISpecFor(tenant string) []byte {
	return bytes.ReplaceAll(openAPISpec, []byte(TenantPlaceholder), []byte(tenant)) // a copy, always
}
