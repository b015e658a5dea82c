package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/linkbff/linkbff/internal/fault"
)

// APIError is an Auth0 4xx answer other than 429: the request reached Auth0
// and was refused, e.g. 400 "Main identity cannot be removed." or 409
// "Specified identity already exists.". Retrying the same request will not help.
type APIError struct {
	StatusCode int    // HTTP status of the answer
	Message    string // Auth0's "message", else its "error", else the status text
	ErrorCode  string // Auth0's "errorCode" (e.g. "inexistent_user"); may be empty
}

// Fault says what the refusal means to the linking rules: 404 NotFound, 409
// Conflict, 400 Invalid (Auth0's message says why, and may be shown), anything else
// Refused.
func (e *APIError) Fault() fault.Failure {
	switch e.StatusCode {
	case http.StatusNotFound:
		return fault.Failure{Kind: fault.NotFound, Message: e.Message}
	case http.StatusConflict:
		return fault.Failure{Kind: fault.Conflict, Message: e.Message}
	case http.StatusBadRequest:
		return fault.Failure{Kind: fault.Invalid, Message: e.Message}
	default:
		return fault.Failure{Kind: fault.Refused, Message: e.Message}
	}
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("mgmt: management API answered %d: %s", e.StatusCode, e.Message)
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	return s
}

// RateLimitError means Auth0 still answered 429 after the allowed retries, or
// asked for a wait that would not fit the caller's deadline.
type RateLimitError struct {
	// RetryAfter is how long the last 429 asked to wait (may be 0).
	RetryAfter time.Duration
}

// Fault says the call was rate limited, and for how long Auth0 asked to wait.
func (e *RateLimitError) Fault() fault.Failure {
	return fault.Failure{Kind: fault.RateLimited, RetryAfter: e.RetryAfter}
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("mgmt: management API rate limit exceeded; retry after %s", e.RetryAfter)
}

// UnavailableError means the Management API gave no usable answer: a 5xx or
// other unexpected status, a connection failure, a timeout or cancellation, an
// undecodable or oversized answer, or no token from the token endpoint.
type UnavailableError struct {
	// StatusCode is the HTTP status of the failing answer (from the Management
	// API or the token endpoint), 0 when there was none.
	StatusCode int
	// Timeout is true when a deadline ran out (the call's or the caller's) or
	// the network reported a timeout.
	Timeout bool
	Err     error
}

func (e *UnavailableError) Error() string {
	switch {
	case e.Err != nil:
		return "mgmt: management API unavailable: " + e.Err.Error()
	case e.StatusCode != 0:
		return fmt.Sprintf("mgmt: management API unavailable: status %d", e.StatusCode)
	default:
		return "mgmt: management API unavailable"
	}
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Fault says Auth0 gave no answer in time (Timeout) or no usable one (Unavailable).
func (e *UnavailableError) Fault() fault.Failure {
	if e.Timeout {
		return fault.Failure{Kind: fault.Timeout}
	}
	return fault.Failure{Kind: fault.Unavailable}
}

// CredentialsError is the token endpoint refusing linkbff's client credentials
// request (401 or 403): a wrong client id or secret, an application without the
// Client Credentials grant, one not authorized for the Management API, or an
// audience that names no API. Retrying does not help; the configuration must change.
// It is wrapped by the *UnavailableError that calls return.
type CredentialsError struct {
	StatusCode  int    // 401 or 403
	Code        string // the OAuth error, e.g. access_denied, unauthorized_client
	Description string // Auth0's error_description
}

// Refusal says in a word which part of the set-up the token endpoint refused.
type Refusal int

const (
	// RefusedOther is a refusal the other kinds do not describe.
	RefusedOther Refusal = iota
	// RefusedClient: the client id or secret is wrong (401).
	RefusedClient
	// RefusedGrant: the application may not use the Client Credentials grant.
	RefusedGrant
	// RefusedAudience: the application is not authorized for the requested
	// audience, or the audience names no API of the tenant.
	RefusedAudience
)

// Refusal classifies the refusal by the OAuth error Auth0 answered with.
func (e *CredentialsError) Refusal() Refusal {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return RefusedClient
	case e.Code == "unauthorized_client":
		return RefusedGrant
	case e.Code == "access_denied":
		return RefusedAudience
	default:
		return RefusedOther
	}
}

func (e *CredentialsError) Error() string {
	s := fmt.Sprintf("mgmt: the token endpoint refused the client credentials (%d", e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	s += ")"
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

func unavailable(status int, err error) *UnavailableError {
	return &UnavailableError{StatusCode: status, Timeout: isTimeout(err), Err: err}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// apiError decodes Auth0's error body {"statusCode","error","message","errorCode"},
// falling back to the status text when the body is something else (a proxy's
// HTML page, nothing at all).
func apiError(status int, body []byte) *APIError {
	var w struct {
		Error     string `json:"error"`
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &w) // not Auth0-shaped: keep the zero value
	e := &APIError{StatusCode: status, Message: w.Message, ErrorCode: w.ErrorCode}
	if e.Message == "" {
		e.Message = w.Error
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d", status)
	}
	return e
}
