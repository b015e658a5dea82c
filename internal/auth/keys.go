package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	josev2 "gopkg.in/go-jose/go-jose.v2"

	"github.com/linkbff/linkbff/internal/fault"
)

// KeySource serves the tenant's signing keys (JWKS) to both token verifiers. It wraps
// go-jwt-middleware's caching provider and adds what that provider lacks: a token
// signed with a kid the cached set does not know triggers one fresh fetch, at most
// once per MinRefreshInterval, so a key rotation is picked up at once while a flood of
// forged kids cannot turn linkbff into a JWKS-fetching amplifier. Past that, unknown
// kids fail closed.
//
// It also remembers the last key set a fetch returned: the provider has no cache before its
// first fetch and drops its cache when a background refresh fails, after which every
// call would fetch synchronously. When a fetch fails, the last good set is served,
// and the provider is not asked again for keyFetchBackoff; with no good set yet, Keys
// fails with ErrKeysUnavailable meanwhile.
type KeySource struct {
	jwksURL     *url.URL
	client      *http.Client
	ttl         time.Duration
	minInterval time.Duration
	now         func() time.Time

	current atomic.Pointer[jwks.CachingProvider]
	good    atomic.Pointer[josev2.JSONWebKeySet] // the last set a fetch returned

	// fetchMu is held while the current provider is asked for keys, so that while it
	// fetches synchronously other callers get the last good set instead of queueing
	// up behind (or repeating) a fetch that may fail.
	fetchMu sync.Mutex

	failed atomic.Pointer[fetchFailure] // the last fetch's failure; nil once one succeeds

	mu         sync.Mutex
	lastForced time.Time
	rotated    []func() // called after a forced refresh found a key gone (see onRotate)
}

// fetchFailure is a failed JWKS fetch: when, and why.
type fetchFailure struct {
	at  time.Time
	err error
}

// ErrKeysUnavailable is wrapped by the error Keys returns when the signing keys cannot
// be fetched and no earlier key set is known: the token cannot be checked, which is
// not the token's fault.
var ErrKeysUnavailable = errors.New("auth: signing keys unavailable")

// keysUnavailable is the error of Keys, and so of both verifiers, while no key set
// can be served (err wraps ErrKeysUnavailable): 502 upstream_unavailable, as for any
// Auth0 outage, with Retry-After at the end of the fetch back-off. The token may be
// fine, so it is not an invalid_token.
func keysUnavailable(err error) *fault.Error {
	f := fault.Wrap(err, fault.UpstreamUnavailable, "Auth0's signing keys cannot be fetched.")
	f.RetryAfter = keyFetchBackoff
	return f
}

// keyFetchBackoff is how long after a failed JWKS fetch the provider is left alone.
const keyFetchBackoff = 5 * time.Second

// onRotate registers f to run when a refresh caused by an unknown kid found that a
// key of the previous set is gone or changed (so caches derived from the old keys
// can be dropped). A refresh that finds the same keys, or only new ones, runs nothing:
// a forged kid cannot flush anything.
func (k *KeySource) onRotate(f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rotated = append(k.rotated, f)
}

// KeySourceConfig configures a KeySource.
type KeySourceConfig struct {
	Issuer string // with trailing slash; the JWKS is at {Issuer}.well-known/jwks.json
	Client *http.Client
	// CacheTTL is how long a fetched JWKS is used before a background refresh (default 10m).
	CacheTTL time.Duration
	// MinRefreshInterval bounds refreshes caused by unknown kids (default 30s).
	MinRefreshInterval time.Duration
	Now                func() time.Time
	// OnFetch, when set, is called after each request for the JWKS with its error:
	// nil when the endpoint answered 2xx, else no answer or another status (for
	// metrics).
	OnFetch func(err error)
}

// NewKeySource returns a KeySource; nothing is fetched until the first token.
func NewKeySource(cfg KeySourceConfig) (*KeySource, error) {
	u, err := url.Parse(cfg.Issuer + ".well-known/jwks.json")
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS URL: %w", err)
	}
	k := &KeySource{jwksURL: u, client: cfg.Client, ttl: cfg.CacheTTL, minInterval: cfg.MinRefreshInterval, now: cfg.Now}
	if k.client == nil {
		k.client = &http.Client{Timeout: 5 * time.Second}
	}
	// go-jwt-middleware decodes whatever JSON answers, so an error body such as
	// {"statusCode":503,...} would replace the keys with an empty set: refuse non-2xx.
	base := k.client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *k.client
	c.Transport = statusCheckingTransport{base, cfg.OnFetch}
	k.client = &c
	if k.ttl == 0 {
		k.ttl = 10 * time.Minute
	}
	if k.minInterval == 0 {
		k.minInterval = 30 * time.Second
	}
	if k.now == nil {
		k.now = time.Now
	}
	k.current.Store(k.newProvider())
	return k, nil
}

func (k *KeySource) newProvider() *jwks.CachingProvider {
	// The issuer URL is only a cache key when a custom JWKS URI is set; using the JWKS
	// URI directly skips a discovery round trip.
	return jwks.NewCachingProvider(k.jwksURL, k.ttl, jwks.WithCustomJWKSURI(k.jwksURL), jwks.WithCustomClient(k.client))
}

// Keys returns the key set, refreshed first if kid is unknown and a refresh is allowed.
// While no set can be served it fails with a *fault.Error wrapping ErrKeysUnavailable.
func (k *KeySource) Keys(ctx context.Context, kid string) (*josev2.JSONWebKeySet, error) {
	set, err := k.load(ctx)
	if err != nil {
		return nil, keysUnavailable(err)
	}
	if kid == "" || len(set.Key(kid)) > 0 || k.backingOff() != nil || !k.mayRefresh() {
		return set, nil
	}
	p := k.newProvider()
	fresh, err := k.keys(ctx, p)
	if err != nil {
		k.fetchFailed(ctx, err)
		return set, nil // keep serving the old set; the token fails closed
	}
	if len(fresh.Keys) == 0 {
		return set, nil
	}
	k.good.Store(fresh)
	k.current.Store(p)
	// Only a key that is gone (or changed) can make an accepted token bad: a refresh
	// that only added keys, or found the same set (as one forced by a forged kid
	// does), leaves what was derived from the old keys alone.
	if !removesKeys(set, fresh) {
		return fresh, nil
	}
	k.mu.Lock()
	hooks := k.rotated
	k.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	return fresh, nil
}

// removesKeys reports whether some key of old is missing from fresh, or has other
// key material or parameters there.
func removesKeys(old, fresh *josev2.JSONWebKeySet) bool {
	for _, ok := range old.Keys {
		found := false
		for _, fk := range fresh.Key(ok.KeyID) {
			if sameKey(ok, fk) {
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}

func sameKey(a, b josev2.JSONWebKey) bool {
	if a.Use != b.Use || a.Algorithm != b.Algorithm {
		return false
	}
	pa, ok := a.Key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pa.Equal(b.Key)
}

// Why VerificationKey refuses a key; each is the token's fault (an unknown kid, or a
// key that may not verify an RS256 signature).
var (
	errUnknownKid = errors.New("no key of the tenant's JWKS has this kid")
	errKidTwice   = errors.New("the tenant's JWKS has more than one key with this kid")
)

// minRSABits is the smallest RSA key RS256 may be used with (RFC 7518 §3.3).
const minRSABits = 2048

// VerificationKey returns the public key that verifies an RS256 signature of a
// token whose header names kid: the one key of the tenant's JWKS with that kid, which
// must be an RSA public key of at least 2048 bits published for signatures ("use"
// absent or "sig") with RS256 ("alg" absent or "RS256"). Binding the algorithm to
// the key this way (RFC 8725 §3.1) means a key published for anything else never
// verifies a token. An unknown kid may refresh the keys first (see Keys). While no
// key set can be served it fails with Keys' *fault.Error; any other error is the
// token's fault.
func (k *KeySource) VerificationKey(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	set, err := k.Keys(ctx, kid)
	if err != nil {
		return nil, err
	}
	keys := set.Key(kid)
	switch len(keys) {
	case 0:
		return nil, errUnknownKid
	case 1:
	default:
		return nil, errKidTwice
	}
	jwk := keys[0]
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("the key with this kid is published for %q, not for signatures", jwk.Use)
	}
	if jwk.Algorithm != "" && jwk.Algorithm != "RS256" {
		return nil, fmt.Errorf("the key with this kid is published for %s, not RS256", jwk.Algorithm)
	}
	pub, ok := jwk.Key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key with this kid is a %T, not an RSA public key", jwk.Key)
	}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("the key with this kid has %d bits, fewer than %d", pub.N.BitLen(), minRSABits)
	}
	return pub, nil
}

// load returns the current provider's key set, or the last good set while the
// provider fails or another caller is asking it.
func (k *KeySource) load(ctx context.Context) (*josev2.JSONWebKeySet, error) {
	good := k.good.Load()
	if f := k.backingOff(); f != nil {
		return k.goodOr(good, f.error(k.now()))
	}
	if !k.fetchMu.TryLock() {
		if good != nil {
			return good, nil
		}
		k.fetchMu.Lock()
	}
	defer k.fetchMu.Unlock()
	if f := k.backingOff(); f != nil { // the fetch we waited for failed
		return k.goodOr(k.good.Load(), f.error(k.now()))
	}
	set, err := k.keys(ctx, k.current.Load())
	if err != nil {
		k.fetchFailed(ctx, err)
		return k.goodOr(k.good.Load(), fmt.Errorf("%w: %w", ErrKeysUnavailable, err))
	}
	k.good.Store(set)
	if k.failed.Load() != nil {
		k.failed.Store(nil)
	}
	return set, nil
}

func (k *KeySource) goodOr(good *josev2.JSONWebKeySet, err error) (*josev2.JSONWebKeySet, error) {
	if good != nil {
		return good, nil
	}
	return nil, err
}

// backingOff returns the failed fetch while the provider is left alone after it, nil
// otherwise.
func (k *KeySource) backingOff() *fetchFailure {
	f := k.failed.Load()
	if f == nil {
		return nil
	}
	if since := k.now().Sub(f.at); since >= keyFetchBackoff || since < 0 {
		return nil
	}
	return f
}

// error is what Keys returns during the back-off when it has no key set to serve.
func (f *fetchFailure) error(now time.Time) error {
	return fmt.Errorf("%w: the last JWKS fetch failed, the next is in %s: %w",
		ErrKeysUnavailable, (keyFetchBackoff - now.Sub(f.at)).Round(time.Millisecond), f.err)
}

// fetchFailed starts the back-off, unless the fetch failed only because the caller
// went away (that says nothing about the JWKS endpoint).
func (k *KeySource) fetchFailed(ctx context.Context, err error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	k.failed.Store(&fetchFailure{at: k.now(), err: err})
}

func (k *KeySource) keys(ctx context.Context, p *jwks.CachingProvider) (*josev2.JSONWebKeySet, error) {
	v, err := p.KeyFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: fetching JWKS: %w", err)
	}
	set, ok := v.(*josev2.JSONWebKeySet)
	if !ok {
		return nil, fmt.Errorf("auth: JWKS provider returned %T", v)
	}
	return set, nil
}

func (k *KeySource) mayRefresh() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.lastForced.IsZero() && now.Sub(k.lastForced) < k.minInterval {
		return false
	}
	k.lastForced = now
	return true
}

// statusCheckingTransport turns a non-2xx JWKS answer into an error, and tells
// onFetch (when set) how each request went.
type statusCheckingTransport struct {
	base    http.RoundTripper
	onFetch func(error)
}

func (t statusCheckingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.roundTrip(req)
	if t.onFetch != nil {
		t.onFetch(err)
	}
	return res, err
}

func (t statusCheckingTransport) roundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", req.URL.Redacted(), res.Status)
	}
	return res, nil
}
