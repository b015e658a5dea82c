package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// Config holds the linking policy.
type Config struct {
	// ClientID is the client id whose ID tokens link with {link_with}: the azp of the
	// Management API token (the BFF's own application when it holds that grant).
	// Other tokens, and all of them when it is "", link with {provider, user_id}.
	ClientID             string
	MaxAge               time.Duration // how recent the secondary login must be
	RequireVerifiedEmail bool
	RequireNonce         bool
	NonceTTL             time.Duration
	CacheTTL             time.Duration // 0 disables the read cache
	// CacheTimeout bounds each read-cache call (DefaultCacheTimeout when 0): a
	// shared cache that stopped answering must cost a read a little time, not the
	// request's deadline, since a miss can still be served by Auth0.
	CacheTimeout time.Duration
	Now          func() time.Time
	// EndSessions, when set, ends what signs in elsewhere as a user id that no
	// longer exists: linkbff's browser sessions of the secondary user after a link
	// (Auth0 deletes that user).
	EndSessions func(ctx context.Context, userID string) error
	// OnCacheLookup, when set, is called once per read of the identity cache by
	// List, with CacheHit, CacheMiss or CacheError (for metrics; it runs on every
	// list, so it must not allocate).
	OnCacheLookup func(result string)
	// OnOutcome, when set, is called once per link and unlink (OperationLink,
	// OperationUnlink) with "" when it succeeded, else the code of its failure: the
	// outcome its audit record reports.
	OnOutcome func(operation string, code fault.Code)
}

// The operations whose outcome is reported (Config.OnOutcome), as the event of
// their audit record names them.
const (
	OperationLink   = "link"
	OperationUnlink = "unlink"
)

// What a read of the identity cache found (Config.OnCacheLookup).
const (
	CacheHit   = "hit"
	CacheMiss  = "miss"
	CacheError = "error" // the cache did not answer; Auth0 was asked
)

// DefaultCacheTimeout is Config.CacheTimeout's default: a healthy Redis answers in
// well under a millisecond.
const DefaultCacheTimeout = 250 * time.Millisecond

// Service applies the linking rules.
type Service struct {
	cfg      Config
	upstream Upstream
	verifier TokenVerifier
	store    Store
	shared   SharedCache // store, when replicas share it; nil otherwise
	local    bool        // store is InProcess: its reads need no timeout
	reads    singleflight.Group
	// writes counts link/unlink results per user (striped by a hash of the user id):
	// a read that started before a write must not cache what it read after the
	// write put the newer view there. A SharedCache keeps this count for all replicas
	// instead.
	writes [256]atomic.Uint64
}

func (s *Service) writeCounter(userID string) *atomic.Uint64 {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return &s.writes[h.Sum32()%uint32(len(s.writes))]
}

// New returns a Service.
func New(cfg Config, upstream Upstream, verifier TokenVerifier, store Store) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTimeout <= 0 {
		cfg.CacheTimeout = DefaultCacheTimeout
	}
	if cfg.OnCacheLookup == nil {
		cfg.OnCacheLookup = func(string) {}
	}
	if cfg.OnOutcome == nil {
		cfg.OnOutcome = func(string, fault.Code) {}
	}
	shared, _ := store.(SharedCache)
	_, local := store.(InProcess)
	return &Service{cfg: cfg, upstream: upstream, verifier: verifier, store: store, shared: shared, local: local}
}

// readTimeout bounds a shared (coalesced) read when its first caller has no deadline.
const readTimeout = 20 * time.Second

// List returns the caller's identities, from the cache when warm. Concurrent misses
// for one user share one upstream read.
func (s *Service) List(ctx context.Context, userID string) (View, error) {
	if err := checkCaller(userID); err != nil {
		return View{}, err
	}
	useCache := s.cfg.CacheTTL > 0
	if useCache {
		v, ok, err := s.cachedView(ctx, userID)
		switch {
		case err != nil:
			// The cache cannot answer: serve this read from Auth0 and leave the
			// cache alone rather than wait for it twice more.
			s.cfg.OnCacheLookup(CacheError)
			reqlog.From(ctx).Warn("identity cache read failed", "err", err)
			useCache = false
		case ok:
			s.cfg.OnCacheLookup(CacheHit)
			return v, nil
		default:
			s.cfg.OnCacheLookup(CacheMiss)
		}
	}
	return coalesced(ctx, &s.reads, userID, func(ctx context.Context) (View, error) {
		return s.fetch(ctx, userID, useCache)
	})
}

// coalesced runs fn once for all concurrent callers of key in g (a read that
// several requests need at once) and gives each its result. fn runs detached from
// the first caller's cancellation, which must not fail the others, but bounded by
// its deadline (readTimeout without one), so that 429 back-off is planned against
// the time a caller really has. A caller whose ctx ends stops waiting.
func coalesced[T any](ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(readTimeout)
		}
		fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		defer cancel()
		return fn(fctx)
	})
	var zero T
	select {
	case res := <-ch:
		if res.Err != nil {
			return zero, res.Err
		}
		return res.Val.(T), nil
	case <-ctx.Done():
		return zero, upstreamFault(ctx.Err())
	}
}

// cachedView reads the cache within CacheTimeout, and seals a view the cache kept
// without its Doc (one cached by an earlier version of linkbff).
func (s *Service) cachedView(ctx context.Context, userID string) (View, bool, error) {
	if !s.local {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.CacheTimeout)
		defer cancel()
	}
	v, ok, err := s.store.GetView(ctx, userID)
	if ok && err == nil && v.Doc == nil {
		v = Seal(v)
	}
	return v, ok, err
}

// fetch reads userID from Auth0 and, when useCache, caches what it read.
func (s *Service) fetch(ctx context.Context, userID string, useCache bool) (View, error) {
	var before uint64
	cacheable := false
	if useCache {
		// Look again: a read that finished between this caller's miss and its
		// joining the flight has filled the cache, and a second upstream read would
		// be waste.
		if v, ok, err := s.cachedView(ctx, userID); err == nil && ok {
			return v, nil
		}
		before, cacheable = s.generation(ctx, userID)
	}
	u, err := s.upstream.GetUser(ctx, userID)
	if err != nil {
		return View{}, callerFault(err)
	}
	v := Seal(viewFrom(userID, u.Identities, primaryProfile(u)))
	if cacheable {
		s.rememberRead(ctx, before, v)
	}
	return v, nil
}

// generation returns userID's write generation before a read (see Service.writes);
// cacheable is false when what the read finds must not be cached: the shared
// generation cannot be read.
func (s *Service) generation(ctx context.Context, userID string) (gen uint64, cacheable bool) {
	if s.shared == nil {
		return s.writeCounter(userID).Load(), true
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CacheTimeout)
	defer cancel()
	gen, err := s.shared.Generation(ctx, userID)
	if err != nil {
		reqlog.From(ctx).Warn("identity cache generation read failed", "err", err)
		return 0, false
	}
	return gen, true
}

// rememberRead caches what a read found, unless a write of the same user happened
// since generation returned before.
func (s *Service) rememberRead(ctx context.Context, before uint64, v View) {
	if s.shared == nil {
		if s.writeCounter(v.UserID).Load() == before {
			s.remember(ctx, v)
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CacheTimeout)
	defer cancel()
	if _, err := s.shared.SetViewIf(ctx, v.UserID, before, v, s.cfg.CacheTTL); err != nil {
		reqlog.From(ctx).Warn("identity cache write failed", "err", err)
	}
}

// wrote records a link or unlink of userID (see Service.writes) and caches its
// result, or forgets the cached view when the result is unknown.
func (s *Service) wrote(ctx context.Context, userID string, v *View) {
	if s.shared != nil {
		if s.cfg.CacheTTL <= 0 {
			v = nil
		}
		if err := s.shared.Wrote(ctx, userID, v, s.cfg.CacheTTL); err != nil {
			reqlog.From(ctx).Warn("identity cache write failed", "err", err)
		}
		return
	}
	s.writeCounter(userID).Add(1)
	if v == nil {
		_ = s.store.DeleteView(ctx, userID)
		return
	}
	s.remember(ctx, *v)
}

func (s *Service) remember(ctx context.Context, v View) {
	if s.cfg.CacheTTL <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CacheTimeout)
	defer cancel()
	if err := s.store.SetView(ctx, v.UserID, v, s.cfg.CacheTTL); err != nil {
		reqlog.From(ctx).Warn("identity cache write failed", "err", err)
	}
}

// Intent is a one-time link intent.
type Intent struct {
	Nonce     string
	ExpiresIn time.Duration
}

// NewIntent issues a nonce the caller passes to the secondary login; Link accepts an
// ID token carrying it once, for this caller only.
func (s *Service) NewIntent(ctx context.Context, userID string) (Intent, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Intent{}, err
	}
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.store.PutIntent(ctx, nonce, userID, s.cfg.NonceTTL); err != nil {
		return Intent{}, fault.FromStore(fmt.Errorf("storing link intent: %w", err))
	}
	return Intent{Nonce: nonce, ExpiresIn: s.cfg.NonceTTL}, nil
}

// Link links the identity that signed in to produce linkToken (a secondary ID token)
// into the caller's account.
func (s *Service) Link(ctx context.Context, userID, linkToken string) (v View, err error) {
	secondary := ""
	defer func() { s.finished(ctx, OperationLink, userID, secondary, err) }()
	if err := checkCaller(userID); err != nil {
		return View{}, err
	}

	tok, err := s.verifier.Verify(ctx, linkToken)
	if err != nil {
		if failureOf(err).Kind == fault.Invalid {
			return View{}, fault.Wrap(err, fault.InvalidLinkToken,
				"link_with is not a valid ID token of this tenant for an allowed application, or it has expired.")
		}
		return View{}, err // the verifier's own failure, e.g. signing keys that cannot be fetched
	}
	// The secondary's user id goes into Management API URLs and bodies: only the
	// shape Auth0 gives user ids gets there (the verifier refuses others first).
	provider, secID, ok := account.SplitUserID(tok.Subject)
	if !ok {
		return View{}, fault.Wrap(account.CheckUserID(tok.Subject), fault.InvalidLinkToken,
			"The sub of link_with is not an Auth0 user id (provider|id).")
	}
	secondary = tok.Subject
	if err := s.checkLinkToken(ctx, userID, tok); err != nil {
		return View{}, err
	}

	unlock, err := s.store.Lock(ctx, userID)
	if err != nil {
		return View{}, lockFault(err)
	}
	defer unlock()

	primary, err := s.upstream.GetUser(ctx, userID)
	if err != nil {
		return View{}, callerFault(err)
	}
	if found, _ := viewFrom(userID, primary.Identities, Profile{}).has(provider, secID); found {
		return View{}, fault.New(fault.IdentityExists, "This identity is already linked to your account.")
	}
	sec, err := s.upstream.GetUser(ctx, tok.Subject)
	if err != nil {
		if failureOf(err).Kind == fault.NotFound {
			return View{}, fault.Wrap(err, fault.InvalidLinkToken, "The account of link_with no longer exists.")
		}
		return View{}, upstreamFault(err)
	}
	// Metadata first: Auth0 discards the secondary's metadata on link, so merge it
	// into the primary while both exist. If the link then fails, nothing is lost.
	if patch := metadataPatch(primary.UserMetadata, sec.UserMetadata); len(patch) > 0 {
		if err := s.upstream.UpdateUserMetadata(ctx, userID, patch); err != nil {
			return View{}, callerFault(err)
		}
	}
	var ids []account.Identity
	if tok.Audience == s.cfg.ClientID {
		ids, err = s.upstream.LinkWithToken(ctx, userID, linkToken)
	} else {
		ids, err = s.upstream.LinkIdentity(ctx, userID, provider, secID)
	}
	if err != nil {
		s.wrote(ctx, userID, nil) // the link may or may not have happened
		return View{}, linkFault(err)
	}
	v = Seal(viewFrom(userID, ids, primaryProfile(primary)))
	s.wrote(ctx, userID, &v)
	s.forgetSecondary(ctx, tok.Subject)
	return v, nil
}

// forgetSecondary drops what linkbff holds for the secondary user of a link, which
// Auth0 has just deleted: its cached view, its pending link nonces and its browser
// sessions. The link has happened, so a failure here is logged, not answered: a
// session left behind speaks for a user id that no longer exists, and a nonce left
// behind expires.
func (s *Service) forgetSecondary(ctx context.Context, secondary string) {
	ctx = context.WithoutCancel(ctx)
	log := reqlog.From(ctx)
	_ = s.store.DeleteView(ctx, secondary)
	if err := s.store.RevokeIntents(ctx, secondary); err != nil {
		log.Error("revoking the link nonces of a linked-away user failed", "user_id", secondary, "err", err)
	}
	if s.cfg.EndSessions != nil {
		if err := s.cfg.EndSessions(ctx, secondary); err != nil {
			log.Error("ending the sessions of a linked-away user failed", "user_id", secondary, "err", err)
		}
	}
}

// checkLinkToken applies the rules that need no upstream call.
func (s *Service) checkLinkToken(ctx context.Context, userID string, tok account.IDToken) error {
	loginAt := tok.IssuedAt
	if !tok.AuthTime.IsZero() {
		loginAt = tok.AuthTime
	}
	if s.cfg.Now().Sub(loginAt) > s.cfg.MaxAge {
		return fault.New(fault.LinkTokenTooOld,
			fmt.Sprintf("The secondary login is older than %s; sign in with it again.", s.cfg.MaxAge))
	}
	if s.cfg.RequireNonce {
		if tok.Nonce == "" {
			return fault.New(fault.NonceMismatch, "link_with carries no nonce; request one from POST /me/identities/nonce and pass it to the secondary login.")
		}
		ok, err := s.store.ConsumeIntent(ctx, tok.Nonce, userID)
		if err != nil {
			return fault.FromStore(fmt.Errorf("consuming link intent: %w", err))
		}
		if !ok {
			return fault.New(fault.NonceMismatch, "The nonce of link_with is unknown, expired, already used or was issued to someone else.")
		}
	}
	if tok.Subject == userID {
		return fault.New(fault.AlreadyLinked, "The secondary login is this account itself (or an identity already linked to it).")
	}
	if s.cfg.RequireVerifiedEmail && !tok.EmailVerified {
		return fault.New(fault.EmailNotVerified, "The secondary account's email address is not verified.")
	}
	return nil
}

// Unlink removes provider|identityUserID from the caller's account.
func (s *Service) Unlink(ctx context.Context, userID, provider, identityUserID string) (v View, err error) {
	identity := "(invalid path)" // never log unvalidated input
	defer func() { s.finished(ctx, OperationUnlink, userID, identity, err) }()
	if err := checkCaller(userID); err != nil {
		return View{}, err
	}
	if err := ValidateIdentityPath(provider, identityUserID); err != nil {
		return View{}, err
	}
	identity = provider + "|" + identityUserID
	// Decide under the lock, so that concurrent unlinks see each other's result.
	unlock, err := s.store.Lock(ctx, userID)
	if err != nil {
		return View{}, lockFault(err)
	}
	defer unlock()
	current, err := s.List(ctx, userID)
	if err != nil {
		return View{}, err
	}
	found, primary := current.has(provider, identityUserID)
	switch {
	case primary:
		return View{}, fault.New(fault.PrimaryIdentity, "The primary identity of an account cannot be unlinked.")
	case !found:
		return View{}, fault.New(fault.IdentityNotFound, "Your account has no such identity.")
	}
	ids, err := s.upstream.Unlink(ctx, userID, provider, identityUserID)
	if err != nil {
		s.wrote(ctx, userID, nil)
		return View{}, callerFault(err)
	}
	v = Seal(viewFrom(userID, ids, current.Identities[0].Profile))
	s.wrote(ctx, userID, &v)
	_ = s.store.DeleteView(ctx, identity) // a standalone user again, with a fresh view
	// An unlink is often the answer to an identity no longer trusted: a link the
	// account had started before it must be asked for again, not completed after.
	if err := s.store.RevokeIntents(context.WithoutCancel(ctx), userID); err != nil {
		reqlog.From(ctx).Error("revoking the link nonces of an unlinking account failed", "user_id", userID, "err", err)
	}
	return v, nil
}

// finished reports a link or unlink: its audit record, and its outcome to
// Config.OnOutcome.
func (s *Service) finished(ctx context.Context, event, userID, identity string, err error) {
	audit(ctx, event, userID, identity, err)
	var code fault.Code
	if err != nil {
		code = fault.From(err).Code
	}
	s.cfg.OnOutcome(event, code)
}

// audit writes the one audit record of a link or unlink. Tokens are never logged.
func audit(ctx context.Context, event, userID, identity string, err error) {
	outcome, level := "success", slog.LevelInfo
	attrs := []any{"audit", true, "event", event, "user_id", userID, "identity", identity}
	if err != nil {
		outcome, level = "failure", slog.LevelWarn
		attrs = append(attrs, "code", string(fault.From(err).Code))
	}
	attrs = append(attrs, "outcome", outcome)
	reqlog.From(ctx).Log(ctx, level, "audit "+event, attrs...)
}
