// Package api holds the Go types and the chi routing generated from the API
// contract, ../openapi.yaml. Nothing here is edited by hand: change the
// contract, then run `make generate` (`make gencheck` fails on drift).
//
// We generate the plain chi ServerInterface, not oapi-codegen's strict
// server: the strict server decodes request bodies itself with
// encoding/json defaults, which accept unknown members, duplicate keys and
// unlimited sizes. Handlers receive the *http.Request instead and decode the
// body with the server's own decoder, which limits the size (413), rejects
// unknown fields (400 invalid_body) and lists validation errors in the problem
// body, and they write application/problem+json errors themselves.
package api

//go:generate go tool oapi-codegen -config cfg.yaml ../openapi.yaml
