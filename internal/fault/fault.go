// Package fault owns linkbff's error vocabulary, free of any transport: the stable
// codes a client may branch on, Error (a code with its public detail and a hidden
// cause), and the kinds of failure a dependency (Auth0, the token verifier, shared
// state) reports, which the adapters attach to their errors so that the rules decide
// on kinds without knowing any adapter. How a code is sent (its HTTP status and
// title) is decided at the edge, in package problem.
package fault

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code (the "code" member of a problem).
type Code string

// The codes. Adding one takes a row in problem's table and an entry in openapi.yaml's
// ProblemCode (a test holds the three together).
const (
	InvalidBody          Code = "invalid_body"
	UnsupportedMediaType Code = "unsupported_media_type"
	BodyTooLarge         Code = "body_too_large"
	RouteNotFound        Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	InvalidToken         Code = "invalid_token"
	CSRFFailed           Code = "csrf_failed"
	InsufficientScope    Code = "insufficient_scope"
	InvalidLinkToken     Code = "invalid_link_token"
	LinkTokenTooOld      Code = "link_token_too_old"
	NonceMismatch        Code = "nonce_mismatch"
	AlreadyLinked        Code = "already_linked"
	EmailNotVerified     Code = "email_not_verified"
	IdentityExists       Code = "identity_already_exists"
	IdentityNotFound     Code = "identity_not_found"
	AccountNotFound      Code = "account_not_found"
	PrimaryIdentity      Code = "primary_identity"
	InvalidPath          Code = "invalid_path"
	TooManyRequests      Code = "rate_limited"
	AccountBusy          Code = "account_busy"
	StoreUnavailable     Code = "store_unavailable"
	SessionUnavailable   Code = "session_unavailable"
	UpstreamRateLimited  Code = "upstream_rate_limited"
	UpstreamUnavailable  Code = "upstream_unavailable"
	UpstreamTimeout      Code = "upstream_timeout"
	UpstreamError        Code = "upstream_error"
	Internal             Code = "internal_error"
	// ClientClosed marks a request whose client went away before the answer: it
	// appears in the log and the metrics, never in a response anyone reads.
	ClientClosed Code = "client_closed"
)

// FieldError names one invalid member of a request.
type FieldError struct {
	Field   string
	Message string
}

// Error is linkbff's error: a public part (code, detail, field errors, when to
// retry) and a hidden cause that is logged, never sent.
type Error struct {
	Code   Code
	Detail string
	Fields []FieldError
	// RetryAfter, when positive, tells the client how long to wait before retrying.
	RetryAfter time.Duration
	Cause      error
}

// New returns an Error with a public detail.
func New(code Code, detail string) *Error {
	return &Error{Code: code, Detail: detail}
}

// Wrap returns an Error whose cause is logged but not shown.
func Wrap(cause error, code Code, detail string) *Error {
	return &Error{Code: code, Detail: detail, Cause: cause}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Cause }

// From returns what err means to a client: the first *Error in its chain as it is; a
// Canceled failure (see FailureOf) as ClientClosed; anything else as Internal, with
// err as the hidden cause.
func From(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if FailureOf(err).Kind == Canceled {
		return Wrap(err, ClientClosed, "The request was cancelled.")
	}
	return Wrap(err, Internal, "An unexpected error occurred.")
}

// StoreRetryAfter is how long a client is told to wait when shared state cannot be
// reached: long enough for a reconnect, short enough not to matter to a person.
const StoreRetryAfter = time.Second

// FromStore returns what a failed call to shared state (the store of nonces, locks,
// cached views and sessions) means to a client: an *Error the store chose is kept,
// a cancelled context is ClientClosed, and anything else is StoreUnavailable with
// Retry-After, since a store fails only when it cannot be reached or answer.
func FromStore(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if FailureOf(err).Kind == Canceled {
		return Wrap(err, ClientClosed, "The request was cancelled.")
	}
	e := Wrap(err, StoreUnavailable, "The server's shared state cannot be reached; retry in a moment.")
	e.RetryAfter = StoreRetryAfter
	return e
}

// Kind is what went wrong with a dependency, in the terms the rules decide on.
type Kind uint8

// The kinds of dependency failure.
const (
	// Unknown: not a dependency failure, or one that says nothing more.
	Unknown Kind = iota
	// NotFound: what the call named does not exist.
	NotFound
	// Conflict: the change contradicts the dependency's state (an identity already
	// linked elsewhere).
	Conflict
	// Invalid: the input was refused as invalid; Message says why and may be shown.
	Invalid
	// Refused: refused for another reason (a missing permission, a misconfiguration):
	// not the caller's fault, and retrying will not help.
	Refused
	// RateLimited: refused for now; RetryAfter says for how long, when known.
	RateLimited
	// Unavailable: no usable answer (unreachable, 5xx, undecodable).
	Unavailable
	// Timeout: no answer in time.
	Timeout
	// Canceled: the caller went away.
	Canceled
)

func (k Kind) String() string {
	switch k {
	case Unknown:
		return "unknown"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Invalid:
		return "invalid"
	case Refused:
		return "refused"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	case Timeout:
		return "timeout"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Failure is what a dependency's error means to the rules. Adapters give their error
// types a Fault method returning one; a Failure is itself an error, for sentinels and
// test doubles.
type Failure struct {
	Kind Kind
	// Message is the dependency's own explanation, fit to show a client (for Invalid,
	// e.g. Auth0's "JWT (link_with) must have …"); may be empty.
	Message string
	// RetryAfter is how long a RateLimited dependency asked to wait; 0 when it did not say.
	RetryAfter time.Duration
}

func (f Failure) Error() string {
	if f.Message != "" {
		return f.Message
	}
	return f.Kind.String()
}

// Fault returns f, so that FailureOf finds a Failure like any adapter error.
func (f Failure) Fault() Failure { return f }

// reporter is an error that says what it means to the rules.
type reporter interface {
	error
	Fault() Failure
}

// FailureOf says what err means to the rules: the Fault of the first error in its
// chain that has one; Timeout for an expired context deadline and Canceled for a
// cancelled context; Unknown otherwise.
func FailureOf(err error) Failure {
	if r, ok := errors.AsType[reporter](err); ok {
		return r.Fault()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Failure{Kind: Timeout}
	case errors.Is(err, context.Canceled):
		return Failure{Kind: Canceled}
	}
	return Failure{Kind: Unknown}
}
