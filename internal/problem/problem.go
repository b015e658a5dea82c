// Package problem owns linkbff's one error type and its rendering as RFC 9457
// application/problem+json. Handlers return errors; one adapter (Write) turns any
// error into a problem response, logging hidden causes once with the request id.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Code is a stable, machine-readable error code (the "code" member of a problem).
type Code string

// The codes clients may rely on. openapi.yaml documents each code a route can return
// (its test checks the titles agree); InvalidRequest only marks a request whose client
// went away (499), which no client receives.
const (
	InvalidRequest       Code = "invalid_request"
	InvalidBody          Code = "invalid_body"
	UnsupportedMediaType Code = "unsupported_media_type"
	BodyTooLarge         Code = "body_too_large"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	InvalidToken         Code = "invalid_token"
	CSRFFailed           Code = "csrf_failed"
	InvalidLinkToken     Code = "invalid_link_token"
	LinkTokenTooOld      Code = "link_token_too_old"
	NonceMismatch        Code = "nonce_mismatch"
	AlreadyLinked        Code = "already_linked"
	EmailNotVerified     Code = "email_not_verified"
	IdentityExists       Code = "identity_already_exists"
	IdentityNotFound     Code = "identity_not_found"
	PrimaryIdentity      Code = "primary_identity"
	InvalidPath          Code = "invalid_path"
	UpstreamRateLimited  Code = "upstream_rate_limited"
	UpstreamUnavailable  Code = "upstream_unavailable"
	UpstreamTimeout      Code = "upstream_timeout"
	UpstreamError        Code = "upstream_error"
	SessionUnavailable   Code = "session_unavailable"
	Internal             Code = "internal_error"
)

// titles are the short, human-readable summaries of each code (RFC 9457 "title": the
// same for every occurrence of the code).
var titles = map[Code]string{
	InvalidRequest:       "Invalid request",
	InvalidBody:          "Invalid request body",
	UnsupportedMediaType: "Unsupported media type",
	BodyTooLarge:         "Request body too large",
	NotFound:             "Not found",
	MethodNotAllowed:     "Method not allowed",
	InvalidToken:         "Invalid or missing access token",
	CSRFFailed:           "Cross-site request refused",
	InvalidLinkToken:     "Invalid link token",
	LinkTokenTooOld:      "Link token too old",
	NonceMismatch:        "Link nonce mismatch",
	AlreadyLinked:        "Identity already linked",
	EmailNotVerified:     "Email not verified",
	IdentityExists:       "Identity already exists",
	IdentityNotFound:     "Identity not found",
	PrimaryIdentity:      "Primary identity cannot be unlinked",
	InvalidPath:          "Invalid path parameter",
	UpstreamRateLimited:  "Auth0 rate limit reached",
	UpstreamUnavailable:  "Auth0 unavailable",
	UpstreamTimeout:      "Auth0 timed out",
	UpstreamError:        "Auth0 refused the request",
	SessionUnavailable:   "Session store unavailable",
	Internal:             "Internal error",
}

// Title returns the fixed title of a code.
func Title(c Code) string { return titles[c] }

// FieldError names one invalid member of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is linkbff's error type: a public part (status, code, detail, field errors)
// and a hidden cause that is logged, never sent.
type Error struct {
	Status int
	Code   Code
	Detail string
	Fields []FieldError
	// RetryAfter, when positive, is sent as the Retry-After header (whole seconds,
	// rounded up).
	RetryAfter time.Duration
	// Header holds extra response headers (e.g. WWW-Authenticate, Allow).
	Header http.Header
	Cause  error
}

// New returns a problem with a public detail.
func New(status int, code Code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail}
}

// Wrap returns a problem whose cause is logged but not shown.
func Wrap(cause error, status int, code Code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail, Cause: cause}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Cause }

// WithHeader sets a response header and returns e.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = http.Header{}
	}
	e.Header.Set(key, value)
	return e
}

// Body is the JSON document of a problem response.
type Body struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Code      Code         `json:"code"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// TypeURI is the problem type URI of a code.
func TypeURI(c Code) string { return "urn:linkbff:problem:" + string(c) }

// From converts any error into a problem: an *Error anywhere in the chain is used as
// is; anything else is a 500 internal_error with the error as hidden cause.
func From(err error) *Error {
	var p *Error
	if errors.As(err, &p) {
		return p
	}
	return Wrap(err, http.StatusInternalServerError, Internal, "An unexpected error occurred.")
}

// Write renders err as an application/problem+json response.
func Write(w http.ResponseWriter, requestID string, err error) *Error {
	p := From(err)
	for k, vs := range p.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if p.RetryAfter > 0 {
		secs := int64((p.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(Body{
		Type:      TypeURI(p.Code),
		Title:     Title(p.Code),
		Status:    p.Status,
		Detail:    p.Detail,
		Code:      p.Code,
		RequestID: requestID,
		Errors:    p.Fields,
	})
	return p
}
