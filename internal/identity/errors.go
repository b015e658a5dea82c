package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/problem"
)

// upstreamProblem maps a Management API (or shared-state) failure to a problem.
func upstreamProblem(err error) error {
	var (
		p   *problem.Error
		rl  *mgmt.RateLimitError
		un  *mgmt.UnavailableError
		api *mgmt.APIError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &rl):
		p := problem.Wrap(err, http.StatusServiceUnavailable, problem.UpstreamRateLimited, "Auth0's Management API rate limit is reached; retry later.")
		p.RetryAfter = max(rl.RetryAfter, time.Second) // a 503 always tells when to come back
		return p
	case errors.As(err, &un) && un.Timeout, errors.Is(err, context.DeadlineExceeded):
		return problem.Wrap(err, http.StatusGatewayTimeout, problem.UpstreamTimeout, "Auth0 did not answer in time.")
	case errors.As(err, &un):
		return problem.Wrap(err, http.StatusBadGateway, problem.UpstreamUnavailable, "Auth0 is unavailable.")
	case errors.As(err, &api):
		return problem.Wrap(err, http.StatusBadGateway, problem.UpstreamError, "Auth0 refused the request.")
	case errors.Is(err, context.Canceled):
		return problem.Wrap(err, 499, problem.InvalidRequest, "The request was cancelled.")
	default:
		return problem.Wrap(err, http.StatusInternalServerError, problem.Internal, "An unexpected error occurred.")
	}
}

// linkProblem maps the link call's documented refusals to what they mean for the caller.
func linkProblem(err error) error {
	var api *mgmt.APIError
	if errors.As(err, &api) {
		switch api.StatusCode {
		case http.StatusConflict:
			return problem.Wrap(err, http.StatusConflict, problem.IdentityExists, "This identity is already linked to an account.")
		case http.StatusBadRequest:
			// Auth0's messages for link_with are public and precise ("JWT (link_with)
			// must have …"); pass them on.
			return problem.Wrap(err, http.StatusBadRequest, problem.InvalidLinkToken, "Auth0 refused to link: "+api.Message)
		}
	}
	return upstreamProblem(err)
}
