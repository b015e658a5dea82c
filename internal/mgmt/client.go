// Package mgmt owns all HTTP traffic to Auth0's Management API v2: acquiring and
// caching the client-credentials token, the few user and identity calls linkbff
// makes, 429 handling within the caller's deadline, and turning Auth0's answers
// into linkbff's account types and into errors (APIError, RateLimitError,
// UnavailableError) that say which fault.Kind they are.
//
// The returned types carry only what linkbff shows or needs. Identity provider
// tokens that the Management API may include in identities are never decoded, so
// they cannot leak into a response or a log by accident.
package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"
)

const (
	defaultCallTimeout = 5 * time.Second
	defaultMaxRetries  = 2
	// defaultRetryDelay is how long to wait after a 429 that says neither
	// Retry-After nor x-ratelimit-reset. Auth0's free tier refills at ~2 req/s.
	defaultRetryDelay = time.Second
	// maxRetryDelay caps absurd Retry-After values so the duration arithmetic
	// cannot overflow; such a wait never fits a request deadline anyway.
	maxRetryDelay = 24 * time.Hour
	// maxBodyBytes bounds how much of any answer is read: a user object is a
	// few KiB, so anything near this is a broken or hostile upstream.
	maxBodyBytes = 1 << 20
	userAgent    = "linkbff"
	// tokenBackoff is how long after a failed token request calls fail at once
	// with that failure instead of asking the token endpoint again.
	tokenBackoff = 5 * time.Second
	// tokenRenewInterval bounds how often a 401 from the Management API may throw
	// the token away for a fresh one: enough for a rotated signing key or a revoked
	// token, never a token request per call when every token is refused (Auth0
	// counts machine-to-machine tokens against a quota).
	tokenRenewInterval = 30 * time.Second
)

// ErrInvalidArgument reports an id or provider that cannot name a Management API
// resource (empty, "." or ".."). Nothing is sent upstream; it is a caller bug,
// since linkbff validates user input before calling this package.
var ErrInvalidArgument = errors.New("mgmt: invalid argument")

// Config says where the Management API is and how to call it.
type Config struct {
	// Domain is the tenant's base URL with scheme, e.g. "https://tenant.auth0.com"
	// or "http://127.0.0.1:4000". A trailing slash is ignored.
	Domain       string
	ClientID     string
	ClientSecret string
	// PreviousClientSecret is a second secret of the same application, for a
	// rotation without downtime: when the token endpoint refuses one secret with
	// 401, the other is tried, and the one that worked is tried first from then on.
	PreviousClientSecret string
	// Audience of the Management API token; default Domain + "/api/v2/". Set it
	// when Domain is a custom domain: the audience stays the canonical one.
	Audience string
	// HTTPClient carries both the token and the API requests. Default: a client
	// whose transport has dial and TLS handshake timeouts. Its Timeout, if set,
	// still applies; per-call limits come from CallTimeout and the ctx.
	HTTPClient *http.Client
	// CallTimeout bounds each upstream request, token acquisition included
	// (default 5s); the caller's ctx deadline bounds it further. With no ctx
	// deadline it is also the longest 429 back-off the client will wait.
	CallTimeout time.Duration
	// MaxRetries is how many times a 429 is retried (default 2; negative: never).
	MaxRetries int
	// Now is the clock used to read x-ratelimit-reset (unix seconds) and
	// HTTP-date Retry-After values, and to time the back-off after a failed token
	// request; default time.Now.
	Now func() time.Time
	// Budget paces every Management API request (token requests are Auth0's
	// Authentication API and do not count); nil: no pacing but Auth0's own headers.
	Budget Budget
	// Observer is told about every request, retry, token fetch and pacing wait, for
	// metrics; nil: nobody is.
	Observer Observer
	// WrapTransport, when set, wraps HTTPClient's transport, for the token and the
	// API requests alike: linkbff's tracing puts a span around each (see Operation).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Budget is the Management API request budget all replicas share
// (internal/budget).
type Budget interface {
	// Take takes one request slot, waiting for it if need be. When the slot comes
	// later than ctx's deadline allows, it takes nothing and returns at once with
	// granted false and the wait it would have needed. An error means ctx ended
	// while it waited.
	Take(ctx context.Context) (granted bool, retryAfter time.Duration, err error)
}

// Client calls the Management API. It is safe for concurrent use; build one per
// tenant and share it, so that all calls share one cached token.
type Client struct {
	base        string // Domain without trailing slash
	http        *http.Client
	tokens      tokenSource
	secrets     []string // only to scrub them from token errors
	callTimeout time.Duration
	maxRetries  int
	now         func() time.Time
	remaining   atomic.Int64 // last x-ratelimit-remaining; -1 until seen
	budget      Budget       // nil: none
	obs         Observer     // never nil (nopObserver)
	// tenantPace spreads this replica's requests over what Auth0 last said is left
	// until its reset (x-ratelimit-remaining, x-ratelimit-reset): no limit until a
	// tenant closer to its limit than the budget thinks says so.
	tenantPace *rate.Limiter

	lastToken atomic.Pointer[oauth2.Token] // the last token obtained; nil once thrown away
	// fetchMu serializes token requests, so that callers queued behind one that
	// failed see the back-off instead of repeating it. It also guards lastRenew.
	fetchMu     sync.Mutex
	tokenFailed atomic.Pointer[tokenFailure] // the last token request's failure; nil once one succeeds
	hadToken    atomic.Bool                  // a token request has succeeded since New
	lastRenew   time.Time                    // when a 401 last threw the token away (guarded by fetchMu)
}

// tokenFailure is a failed token request: when, and the error callers got.
type tokenFailure struct {
	at  time.Time
	err *UnavailableError
}

// New checks cfg, applies defaults and builds the client. It makes no request:
// the first call fetches the token.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(cfg.Domain, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mgmt: Domain %q must be a base URL such as https://tenant.auth0.com", cfg.Domain)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("mgmt: ClientID is required")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("mgmt: ClientSecret is required")
	}
	if cfg.CallTimeout < 0 {
		return nil, errors.New("mgmt: CallTimeout must not be negative")
	}
	c := &Client{
		base:        base,
		http:        cfg.HTTPClient,
		secrets:     []string{cfg.ClientSecret},
		callTimeout: cfg.CallTimeout,
		maxRetries:  cfg.MaxRetries,
		now:         cfg.Now,
		budget:      cfg.Budget,
		obs:         cfg.Observer,
		tenantPace:  rate.NewLimiter(rate.Inf, 1),
	}
	if c.obs == nil {
		c.obs = nopObserver{}
	}
	c.remaining.Store(-1)
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	if cfg.WrapTransport != nil {
		wrapped := *c.http
		if wrapped.Transport == nil {
			wrapped.Transport = http.DefaultTransport
		}
		wrapped.Transport = cfg.WrapTransport(wrapped.Transport)
		c.http = &wrapped
	}
	if c.callTimeout == 0 {
		c.callTimeout = defaultCallTimeout
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = defaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	audience := cfg.Audience
	if audience == "" {
		audience = base + "/api/v2/"
	}

	if cfg.PreviousClientSecret != "" && cfg.PreviousClientSecret != cfg.ClientSecret {
		c.secrets = append(c.secrets, cfg.PreviousClientSecret)
	}
	src := &secretsSource{obs: c.obs}
	for _, secret := range c.secrets {
		src.configs = append(src.configs, &clientcredentials.Config{
			ClientID:       cfg.ClientID,
			ClientSecret:   secret,
			TokenURL:       base + "/oauth/token",
			EndpointParams: url.Values{"audience": {audience}},
			AuthStyle:      oauth2.AuthStyleInParams,
		})
	}
	// The token source lives as long as the client and fetches beyond any one
	// caller's deadline (callers only stop waiting for it, see token; it takes
	// their ctx's values only), so a bounded HTTP client is what keeps a hanging
	// token endpoint from pinning it.
	tokenHTTP := *c.http
	if tokenHTTP.Timeout == 0 || tokenHTTP.Timeout > c.callTimeout {
		tokenHTTP.Timeout = c.callTimeout
	}
	src.client = &tokenHTTP
	// The source requests a token each time it is asked; the client caches the
	// token itself (lastToken, under fetchMu), so concurrent calls share one fetch
	// per token lifetime, and a token Auth0 refuses can be thrown away (renewToken),
	// which oauth2's reuse source cannot do.
	c.tokens = src
	return c, nil
}

// tokenSource requests a token. ctx carries the values of the call that asked for
// it (its trace span: the token request is a child of it) but never ends the
// request: other calls may be waiting for the same token.
type tokenSource interface {
	Token(ctx context.Context) (*oauth2.Token, error)
}

// secretsSource asks for a client-credentials token with the secret that last
// worked, and with the other one when the token endpoint refuses that with 401:
// during a rotation the application's secret changes in Auth0 at one moment, and
// linkbff holds both until it is redeployed with only the new one.
type secretsSource struct {
	client    *http.Client                // bounded by CallTimeout
	configs   []*clientcredentials.Config // one per secret, the configured one first
	preferred atomic.Int32                // index into configs
	obs       Observer
}

func (s *secretsSource) Token(ctx context.Context) (*oauth2.Token, error) {
	ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, s.client)
	first := int(s.preferred.Load())
	tok, err := s.request(ctx, first)
	if err == nil || len(s.configs) == 1 || !refusedClient(err) {
		return tok, err
	}
	other := 1 - first
	if tok, err2 := s.request(ctx, other); err2 == nil {
		s.preferred.Store(int32(other))
		return tok, nil
	}
	return nil, err
}

// request is one request to the token endpoint with the i-th secret, marked as
// EndpointToken in its context (see Operation) and told to the observer with the
// status it got (0: none).
func (s *secretsSource) request(ctx context.Context, i int) (*oauth2.Token, error) {
	start := time.Now()
	tok, err := s.configs[i].Token(withEndpoint(ctx, EndpointToken))
	status := http.StatusOK
	if err != nil {
		status = 0
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
			status = re.Response.StatusCode
		}
	}
	s.obs.Request(EndpointToken, status, time.Since(start))
	return tok, err
}

// refusedClient reports whether the token endpoint refused the client's
// authentication (401), which another secret may pass.
func refusedClient(err error) bool {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	return ok && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized
}

func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// RateLimitRemaining reports the x-ratelimit-remaining header of the latest
// Management API answer, for metrics; ok is false until one was seen.
func (c *Client) RateLimitRemaining() (remaining int64, ok bool) {
	r := c.remaining.Load()
	return r, r >= 0
}

// answer is one upstream response, read in full (up to maxBodyBytes).
type answer struct {
	status int
	header http.Header
	body   []byte
	token  *oauth2.Token // the token the request carried
}

// call sends one logical Management API request: escapedPath must already be
// escaped. A 429 is retried up to maxRetries times when the back-off fits the
// deadline. A 401 (the token was revoked, or signed with a key Auth0 has since
// rotated out) is retried once with a fresh token, which renewToken allows at most
// once per tokenRenewInterval. Nothing else is retried, because link and unlink are
// not idempotent (a 401 or 429 request was not carried out). A 2xx JSON body is
// decoded into out (nil: ignored).
func (c *Client) call(ctx context.Context, ep Endpoint, method, escapedPath string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("mgmt: encode %s %s body: %w", method, escapedPath, err)
		}
	}
	renewed := false
	retry := "" // why this attempt is a retry; told only once it is sent (see do)
	for attempt := 0; ; attempt++ {
		if err := c.pace(ctx); err != nil {
			return err
		}
		a, err := c.send(ctx, ep, retry, method, escapedPath, payload)
		if err != nil {
			return err
		}
		switch {
		case a.status == http.StatusUnauthorized && !renewed && c.renewToken(a.token):
			renewed = true
			attempt-- // not a 429 retry
			retry = RetryTokenRenewed
		case a.status >= 200 && a.status < 300:
			if out == nil {
				return nil
			}
			if err := decodeJSON(a.body, out); err != nil {
				return &UnavailableError{StatusCode: a.status, Err: fmt.Errorf("mgmt: decode %s %s answer: %w", method, escapedPath, err)}
			}
			return nil
		case a.status == http.StatusTooManyRequests:
			wait := c.retryDelay(a.header)
			if attempt >= c.maxRetries || !c.fits(ctx, wait) {
				return &RateLimitError{RetryAfter: wait}
			}
			if err := sleep(ctx, wait); err != nil {
				return unavailable(0, fmt.Errorf("mgmt: waiting out a 429: %w", err))
			}
			retry = RetryRateLimited
		case a.status >= 400 && a.status < 500:
			return apiError(a.status, a.body)
		default:
			return &UnavailableError{StatusCode: a.status, Err: fmt.Errorf("mgmt: %s %s answered %d", method, escapedPath, a.status)}
		}
	}
}

// send makes one HTTP request under its own CallTimeout; retry is why it is sent
// again ("": it is not).
func (c *Client) send(ctx context.Context, ep Endpoint, retry, method, escapedPath string, payload []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()

	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(withEndpoint(ctx, ep), method, c.base+escapedPath, body)
	if err != nil {
		return nil, fmt.Errorf("mgmt: build %s %s: %w", method, escapedPath, err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, data, err := c.do(ep, retry, req)
	switch {
	case resp == nil:
		return nil, unavailable(0, err)
	case err != nil:
		return nil, unavailable(resp.StatusCode, fmt.Errorf("mgmt: read %s %s answer: %w", method, escapedPath, err))
	case len(data) > maxBodyBytes:
		return nil, &UnavailableError{StatusCode: resp.StatusCode, Err: fmt.Errorf("mgmt: %s %s answer exceeds %d bytes", method, escapedPath, maxBodyBytes)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data, token: tok}, nil
}

// do sends req to endpoint ep, reads the answer (up to maxBodyBytes+1 bytes, so that
// a longer one shows) and tells the observer, of the retry too when retry says why
// req is one: the one place every Management API request passes. resp is nil when
// no answer came; err is then the transport's, else reading the body's.
func (c *Client) do(ep Endpoint, retry string, req *http.Request) (resp *http.Response, body []byte, err error) {
	if retry != "" {
		c.obs.Retry(ep, retry)
	}
	start := time.Now()
	resp, err = c.http.Do(req)
	if err != nil {
		c.obs.Request(ep, 0, time.Since(start))
		return nil, nil, err
	}
	defer resp.Body.Close()
	c.noteRateLimit(resp.Header)
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	c.obs.Request(ep, resp.StatusCode, time.Since(start))
	return resp, body, err
}

// renewToken throws tok away after the Management API refused it (401), so that the
// next call fetches a fresh token, and reports whether the refused request should be
// sent again. When another call already replaced tok, it is sent again with that
// one; otherwise tok is thrown away at most once per tokenRenewInterval: a fresh
// token that is refused too is the answer.
func (c *Client) renewToken(tok *oauth2.Token) bool {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if c.lastToken.Load() != tok {
		return true
	}
	now := c.now()
	if !c.lastRenew.IsZero() && now.Sub(c.lastRenew) < tokenRenewInterval && now.Sub(c.lastRenew) >= 0 {
		return false
	}
	c.lastRenew = now
	c.lastToken.Store(nil)
	return true
}

// token returns the shared cached token, fetching it when it is missing or
// about to expire. The fetch itself runs to completion under the token HTTP
// client's timeout (other callers may be queued on it); this caller stops
// waiting as soon as its own ctx is done. For tokenBackoff after a failed fetch,
// calls fail at once with that failure.
func (c *Client) token(ctx context.Context) (*oauth2.Token, error) {
	// Fast path: the token in hand is good (Valid allows for oauth2's early-expiry
	// window), so no goroutine and no trip through the token source.
	if tok := c.lastToken.Load(); tok.Valid() {
		return tok, nil
	}
	if err := c.tokenBackoffError(); err != nil {
		return nil, err
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	ch := make(chan result, 1) // buffered: an abandoned fetch must not block
	go func() {
		tok, err := c.fetchToken(ctx)
		ch <- result{tok, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return r.tok, nil
	case <-ctx.Done():
		return nil, unavailable(0, fmt.Errorf("mgmt: waiting for the management API token: %w", context.Cause(ctx)))
	}
}

// fetchToken asks the token source (which requests a token only when its cached
// one is about to expire) and records the outcome. A failure starts the
// back-off, whether or not the caller still waits for it: ctx, that of the call
// this fetch runs for, lends the request its values (a trace span), not its end.
func (c *Client) fetchToken(ctx context.Context) (*oauth2.Token, error) {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if tok := c.lastToken.Load(); tok.Valid() { // fetched while we waited
		return tok, nil
	}
	if err := c.tokenBackoffError(); err != nil { // failed while we waited
		return nil, err
	}
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		ue := c.tokenError(err)
		c.tokenFailed.Store(&tokenFailure{at: c.now(), err: ue})
		result := TokenFailed
		if _, refused := errors.AsType[*CredentialsError](ue); refused {
			result = TokenRefused
		}
		c.obs.TokenFetch(result)
		return nil, ue
	}
	c.obs.TokenFetch(TokenOK)
	c.lastToken.Store(tok)
	c.tokenFailed.Store(nil)
	c.hadToken.Store(true)
	return tok, nil
}

// CheckToken obtains the Management API token now (or finds the cached one good),
// so that a deployment learns at startup whether its credentials work. The error
// is that of any call: an *UnavailableError, wrapping a *CredentialsError when the
// token endpoint refused the application.
func (c *Client) CheckToken(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	_, err := c.token(ctx)
	return err
}

// Ready reports whether calls can get a token: nil with a good token in hand or
// one obtained now; the token endpoint's refusal (wrapping a *CredentialsError)
// while the credentials are known bad; any other failure only until a first token
// was obtained. After that, an outage of the token endpoint is Auth0's, and failing
// readiness would take every replica out of service for it.
func (c *Client) Ready(ctx context.Context) error {
	err := c.CheckToken(ctx)
	if err == nil {
		return nil
	}
	if _, refused := errors.AsType[*CredentialsError](err); refused || !c.hadToken.Load() {
		return err
	}
	return nil
}

// tokenBackoffError returns, within tokenBackoff of a failed token request, the
// UnavailableError that request gave (a copy, saying that the endpoint was not
// asked again); nil otherwise.
func (c *Client) tokenBackoffError() error {
	f := c.tokenFailed.Load()
	if f == nil {
		return nil
	}
	since := c.now().Sub(f.at)
	if since >= tokenBackoff || since < 0 {
		return nil
	}
	e := *f.err
	e.Err = fmt.Errorf("%w (%s ago; not asked again for %s)", f.err.Err, since.Round(time.Millisecond), tokenBackoff)
	return &e
}

// tokenError turns a token acquisition failure into an UnavailableError that
// names the endpoint's status and OAuth error but never the client secret (the
// endpoint's body is echoed by oauth2's own messages, and it is not ours).
func (c *Client) tokenError(err error) *UnavailableError {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return &UnavailableError{StatusCode: status, Err: &CredentialsError{
				StatusCode: status, Code: c.scrub(re.ErrorCode), Description: c.scrub(re.ErrorDescription),
			}}
		}
		msg := fmt.Sprintf("mgmt: token endpoint answered %d", status)
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
			if re.ErrorDescription != "" {
				msg += ": " + re.ErrorDescription
			}
		}
		return &UnavailableError{StatusCode: status, Err: errors.New(c.scrub(msg))}
	}
	ue := unavailable(0, fmt.Errorf("mgmt: fetch management API token: %w", err))
	for _, secret := range c.secrets {
		if strings.Contains(err.Error(), secret) {
			ue.Err = errors.New("mgmt: fetch management API token failed; details withheld because they contained the client secret")
		}
	}
	return ue
}

func (c *Client) scrub(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// pace waits until one more request may go to the Management API: first as Auth0's
// last answer allows (tenantPace), then as the shared budget does. When either wait
// would outlast ctx's deadline it returns a RateLimitError at once, having spent
// nothing, so the caller answers 503 with Retry-After rather than time out. The
// observer hears of every wait, however it ended.
func (c *Client) pace(ctx context.Context) error {
	start := time.Now()
	r := c.tenantPace.ReserveN(c.now(), 1)
	if wait := r.DelayFrom(c.now()); wait > 0 {
		if !c.fits(ctx, wait) {
			r.CancelAt(c.now())
			c.obs.Paced(time.Since(start), PaceRefused)
			return &RateLimitError{RetryAfter: wait}
		}
		if err := sleep(ctx, wait); err != nil {
			r.CancelAt(c.now())
			c.obs.Paced(time.Since(start), PaceCancelled)
			return unavailable(0, fmt.Errorf("mgmt: waiting for the tenant's rate limit: %w", err))
		}
	}
	if c.budget != nil {
		granted, retryAfter, err := c.budget.Take(ctx)
		switch {
		case err != nil:
			c.obs.Paced(time.Since(start), PaceCancelled)
			return unavailable(0, fmt.Errorf("mgmt: waiting for the Management API budget: %w", err))
		case !granted:
			c.obs.Paced(time.Since(start), PaceRefused)
			return &RateLimitError{RetryAfter: retryAfter}
		}
	}
	c.obs.Paced(time.Since(start), PaceGranted)
	return nil
}

// noteRateLimit reads Auth0's rate-limit headers: x-ratelimit-remaining for metrics,
// and with x-ratelimit-reset (unix seconds: when the tenant's bucket is full again)
// it paces this replica to spread the remaining requests until then. With none left,
// the next request waits for the reset.
func (c *Client) noteRateLimit(h http.Header) {
	v := h.Get("X-Ratelimit-Remaining")
	if v == "" {
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return
	}
	c.remaining.Store(n)
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64)
	if err != nil {
		return
	}
	now := c.now()
	left := time.Unix(reset, 0).Sub(now)
	if left <= 0 {
		c.tenantPace.SetLimitAt(now, rate.Inf)
		return
	}
	// n more requests fit before the reset: one every left/(n+1), one of them at
	// once when n > 0 (a burst of one).
	c.tenantPace.SetLimitAt(now, rate.Every(left/time.Duration(n+1)))
	if n == 0 {
		c.tenantPace.ReserveN(now, 1) // spend the saved token: wait for the reset
	}
}

// retryDelay reads how long a 429 asks us to wait: Retry-After (seconds or an
// HTTP date), else Auth0's x-ratelimit-reset (unix seconds), else a default.
func (c *Client) retryDelay(h http.Header) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return time.Duration(min(secs, int64(maxRetryDelay/time.Second))) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampDelay(t.Sub(c.now()))
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			return clampDelay(time.Unix(unix, 0).Sub(c.now()))
		}
	}
	return defaultRetryDelay
}

func clampDelay(d time.Duration) time.Duration { return min(max(d, 0), maxRetryDelay) }

// fits reports whether waiting d still leaves time before the ctx deadline
// (or, without one, whether d is within one CallTimeout), so the client never
// sleeps only to fail at the deadline.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	limit := c.callTimeout
	if deadline, ok := ctx.Deadline(); ok {
		limit = time.Until(deadline)
	}
	return d < limit
}

// sleep waits d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number so that
// user_metadata survives a read-modify-write (PATCH) without float rounding.
func decodeJSON(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// escapeSegment escapes one path segment. "." and ".." are refused rather than
// escaped: servers and proxies may resolve them (even as %2E) and redirect the
// call to another resource.
func escapeSegment(what, s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", fmt.Errorf("%w: %s %q cannot be a path segment", ErrInvalidArgument, what, s)
	}
	return url.PathEscape(s), nil
}
