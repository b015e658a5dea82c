// Package linkbff holds what belongs to the module as a whole: the API
// contract, openapi.yaml, embedded so the server can serve it at
// GET /openapi.yaml. It lives at the module root because go:embed cannot
// reach a parent directory; the Go code generated from the contract is in
// package api.
package linkbff

import _ "embed"

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI 3 document of linkbff's HTTP API, as YAML.
// Each call returns a fresh copy, so callers may keep or modify it.
func OpenAPISpec() []byte {
	return append([]byte(nil), openAPISpec...)
}
