package identity

import (
	"errors"
	"time"

	"github.com/linkbff/linkbff/internal/fault"
)

// busyRetryAfter is how long a caller is told to wait when another link or unlink of
// the account holds its lock: such a change takes a few Management API calls.
const busyRetryAfter = time.Second

// failureOf is the kind of failure err reports (fault.FailureOf), or Unknown when err
// already says what to answer: a *fault.Error chosen by a dependency (the verifier,
// the store) is passed on, not decided again.
func failureOf(err error) fault.Failure {
	if _, ok := errors.AsType[*fault.Error](err); ok {
		return fault.Failure{Kind: fault.Unknown}
	}
	return fault.FailureOf(err)
}

// upstreamFault says what a failed Management API call means to the caller, from the
// kind of failure the client reports.
func upstreamFault(err error) error {
	switch f := failureOf(err); f.Kind {
	case fault.RateLimited:
		e := fault.Wrap(err, fault.UpstreamRateLimited, "Auth0's Management API rate limit is reached; retry later.")
		e.RetryAfter = max(f.RetryAfter, time.Second) // a 503 always tells when to come back
		return e
	case fault.Timeout:
		return fault.Wrap(err, fault.UpstreamTimeout, "Auth0 did not answer in time.")
	case fault.Unavailable:
		return fault.Wrap(err, fault.UpstreamUnavailable, "Auth0 is unavailable.")
	case fault.NotFound, fault.Conflict, fault.Invalid, fault.Refused:
		return fault.Wrap(err, fault.UpstreamError, "Auth0 refused the request.")
	default:
		return fault.From(err) // already decided, cancelled, or a bug
	}
}

// callerFault says what a failed Management API call on the caller's own user means.
// Auth0 not finding that user is the caller's concern, not an upstream failure: the
// account was deleted, or linked into another one (whose primary id signing in
// again yields), after the caller's credential was issued.
func callerFault(err error) error {
	if failureOf(err).Kind == fault.NotFound {
		return fault.Wrap(err, fault.AccountNotFound,
			"Your Auth0 account no longer exists: it was deleted or linked into another account. Sign in again.")
	}
	return upstreamFault(err)
}

// linkFault says what a failed link call means: the link call's documented refusals
// are the caller's concern, anything else is an upstream failure.
func linkFault(err error) error {
	switch f := failureOf(err); f.Kind {
	case fault.NotFound:
		// Auth0 answers a secondary it cannot find with 400; a 404 is the primary.
		return callerFault(err)
	case fault.Conflict:
		return fault.Wrap(err, fault.IdentityExists, "This identity is already linked to an account.")
	case fault.Invalid:
		// Auth0's messages for link_with are public and precise ("JWT (link_with)
		// must have …"); pass them on.
		return fault.Wrap(err, fault.InvalidLinkToken, "Auth0 refused to link: "+f.Message)
	}
	return upstreamFault(err)
}

// lockFault says what a failed wait for a user's lock means. A wait that outlives
// the request's deadline means another link or unlink of the account is still
// running (Auth0 was not called); anything else is the store's failure.
func lockFault(err error) error {
	if failureOf(err).Kind == fault.Timeout {
		e := fault.Wrap(err, fault.AccountBusy, "Another change to this account is in progress; retry in a moment.")
		e.RetryAfter = busyRetryAfter
		return e
	}
	return fault.FromStore(err)
}
