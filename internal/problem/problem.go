// Package problem owns the HTTP side of linkbff's errors: the one table that gives
// each fault.Code its HTTP status and title, and the rendering of any error as an
// RFC 9457 application/problem+json response. Handlers return errors; one adapter
// (Write) turns any error into a problem response.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/fault"
)

// StatusClientClosed is what a request whose client went away is logged and counted
// with (the status nginx uses for it). No client ever reads it.
const StatusClientClosed = 499

// entry is how one code is sent.
type entry struct {
	status int
	// title is the short, human-readable summary (RFC 9457 "title": the same for
	// every occurrence of the code).
	title string
}

// table gives each code its one status and its title. openapi.yaml documents the
// same table (its test holds the two together); a new code is one row here, one
// constant in package fault and one entry in the spec.
var table = map[fault.Code]entry{
	fault.InvalidBody:          {http.StatusBadRequest, "Invalid request body"},
	fault.UnsupportedMediaType: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	fault.BodyTooLarge:         {http.StatusRequestEntityTooLarge, "Request body too large"},
	fault.RouteNotFound:        {http.StatusNotFound, "Not found"},
	fault.MethodNotAllowed:     {http.StatusMethodNotAllowed, "Method not allowed"},
	fault.InvalidToken:         {http.StatusUnauthorized, "Invalid or missing access token"},
	fault.CSRFFailed:           {http.StatusForbidden, "Cross-site request refused"},
	fault.InsufficientScope:    {http.StatusForbidden, "Insufficient scope"},
	fault.InvalidLinkToken:     {http.StatusBadRequest, "Invalid link token"},
	fault.LinkTokenTooOld:      {http.StatusBadRequest, "Link token too old"},
	fault.NonceMismatch:        {http.StatusBadRequest, "Link nonce mismatch"},
	fault.AlreadyLinked:        {http.StatusConflict, "Identity already linked"},
	fault.EmailNotVerified:     {http.StatusBadRequest, "Email not verified"},
	fault.IdentityExists:       {http.StatusConflict, "Identity already exists"},
	fault.IdentityNotFound:     {http.StatusNotFound, "Identity not found"},
	fault.AccountNotFound:      {http.StatusNotFound, "Account not found"},
	fault.PrimaryIdentity:      {http.StatusBadRequest, "Primary identity cannot be unlinked"},
	fault.InvalidPath:          {http.StatusBadRequest, "Invalid path parameter"},
	fault.TooManyRequests:      {http.StatusTooManyRequests, "Too many requests"},
	fault.AccountBusy:          {http.StatusServiceUnavailable, "Account busy"},
	fault.StoreUnavailable:     {http.StatusServiceUnavailable, "Shared state unavailable"},
	fault.SessionUnavailable:   {http.StatusServiceUnavailable, "Session store unavailable"},
	fault.UpstreamRateLimited:  {http.StatusServiceUnavailable, "Auth0 rate limit reached"},
	fault.UpstreamUnavailable:  {http.StatusBadGateway, "Auth0 unavailable"},
	fault.UpstreamTimeout:      {http.StatusGatewayTimeout, "Auth0 timed out"},
	fault.UpstreamError:        {http.StatusBadGateway, "Auth0 refused the request"},
	fault.Internal:             {http.StatusInternalServerError, "Internal error"},
	fault.ClientClosed:         {StatusClientClosed, "Client closed request"},
}

// Status returns the HTTP status of a code; a code missing from the table is a bug,
// answered as 500.
func Status(c fault.Code) int {
	if e, ok := table[c]; ok {
		return e.status
	}
	return http.StatusInternalServerError
}

// Title returns the fixed title of a code ("" for a code missing from the table).
func Title(c fault.Code) string { return table[c].title }

// Codes returns every code of the table, sorted.
func Codes() []fault.Code {
	codes := make([]fault.Code, 0, len(table))
	for c := range table {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// TypeURI is the problem type URI of a code.
func TypeURI(c fault.Code) string { return "urn:linkbff:problem:" + string(c) }

// Error is a fault with response headers that only HTTP has (WWW-Authenticate,
// Allow, Accept-Post). Errors without such headers need not be wrapped in one: Write
// takes a *fault.Error as it is.
type Error struct {
	Fault  *fault.Error
	Header http.Header
}

// New returns a problem with a public detail.
func New(code fault.Code, detail string) *Error {
	return &Error{Fault: fault.New(code, detail)}
}

// Wrap returns a problem whose cause is logged but not shown.
func Wrap(cause error, code fault.Code, detail string) *Error {
	return &Error{Fault: fault.Wrap(cause, code, detail)}
}

func (e *Error) Error() string { return e.Fault.Error() }

// Unwrap returns the fault, so that errors.As finds a *fault.Error in any problem.
func (e *Error) Unwrap() error { return e.Fault }

// Status returns the HTTP status the table gives e's code.
func (e *Error) Status() int { return Status(e.Fault.Code) }

// WithHeader sets a response header and returns e.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = http.Header{}
	}
	e.Header.Set(key, value)
	return e
}

// From converts any error into a problem: a *Error anywhere in the chain is used as
// is; otherwise the fault it carries (see fault.From: a plain error is a 500
// internal_error with the error as hidden cause).
func From(err error) *Error {
	if p, ok := errors.AsType[*Error](err); ok {
		return p
	}
	return &Error{Fault: fault.From(err)}
}

// Write renders err as an application/problem+json response and returns the
// problem it wrote.
func Write(w http.ResponseWriter, requestID string, err error) *Error {
	p := From(err)
	f := p.Fault
	for k, vs := range p.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	status := Status(f.Code)
	w.WriteHeader(status)
	body := api.Problem{
		Type:   TypeURI(f.Code),
		Title:  Title(f.Code),
		Status: status,
		Code:   api.ProblemCode(f.Code),
	}
	if f.Detail != "" {
		body.Detail = &f.Detail
	}
	if requestID != "" {
		body.RequestID = &requestID
	}
	for _, fe := range f.Fields {
		body.Errors = append(body.Errors, api.FieldError{Field: fe.Field, Message: fe.Message})
	}
	_ = json.NewEncoder(w).Encode(body)
	return p
}
