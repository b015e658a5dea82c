package mgmt

import "time"

// Endpoint names one kind of Management API request, for metrics: a small fixed set,
// never a path (which holds user ids).
type Endpoint string

// The endpoints Client calls (Endpoints lists them, operation.go gives their paths).
const (
	EndpointGetUser      Endpoint = "get_user"       // read a user
	EndpointPatchUser    Endpoint = "patch_user"     // update a user's metadata
	EndpointUsersByEmail Endpoint = "users_by_email" // find users by email address
	EndpointLink         Endpoint = "link"           // link an identity to a user
	EndpointUnlink       Endpoint = "unlink"         // unlink an identity from a user
	EndpointToken        Endpoint = "token"          // the client-credentials token request (Auth0's Authentication API)
)

// Why a request was sent again (Observer.Retry).
const (
	RetryRateLimited  = "rate_limited"  // after a 429, once its back-off was waited out
	RetryTokenRenewed = "token_renewed" // after a 401, with a fresh token
)

// How a request's wait for its slot ended (Observer.Paced).
const (
	PaceGranted   = "granted"   // the slot came: the request goes
	PaceRefused   = "refused"   // the slot would come after the deadline: not sent (a RateLimitError)
	PaceCancelled = "cancelled" // the request's ctx ended while it waited: not sent
)

// What a token fetch came to (Observer.TokenFetch).
const (
	TokenOK      = "ok"      // a token was obtained
	TokenRefused = "refused" // the token endpoint refused the credentials (401 or 403)
	TokenFailed  = "error"   // any other failure: no answer, or an unusable one
)

// Observer is told what the client does, for metrics (cmd/linkbff counts it in
// Prometheus). Its methods run on the calling goroutine, while a request is in
// flight: they must be cheap and safe for concurrent use.
type Observer interface {
	// Request is one HTTP request to ep with the status of its answer (0: none came:
	// a transport failure or timeout) and how long it took, the body read included.
	// A token fetch that tries both secrets of a rotation is two requests.
	Request(ep Endpoint, status int, took time.Duration)
	// Retry is a request to ep being sent again, and why (RetryRateLimited,
	// RetryTokenRenewed): told as it is handed to the transport, after its slot
	// and its token were had, so a retry that its slot or token failed is none.
	Retry(ep Endpoint, reason string)
	// TokenFetch is one attempt to obtain a Management API token from the token
	// endpoint (TokenOK, TokenRefused, TokenFailed); a cached token is no fetch.
	TokenFetch(result string)
	// Paced is a request's wait for its slot, Auth0's rate-limit headers and the
	// shared budget (see Config.Budget), and how it ended: PaceGranted; PaceRefused,
	// its slot came too late for its deadline, so it was not sent (an
	// upstream_rate_limited answer); PaceCancelled, its ctx ended while it waited.
	Paced(waited time.Duration, outcome string)
}

type nopObserver struct{}

func (nopObserver) Request(Endpoint, int, time.Duration) {}
func (nopObserver) Retry(Endpoint, string)               {}
func (nopObserver) TokenFetch(string)                    {}
func (nopObserver) Paced(time.Duration, string)          {}
