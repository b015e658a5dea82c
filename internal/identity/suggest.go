package identity

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/linkbff/linkbff/internal/account"
)

// Suggestion is another user of the tenant with the caller's verified email: an
// account the caller may want to link. It says how that account signs in and
// nothing else of it (no user id, no metadata, the email masked). A suggestion
// proves nothing: linking still takes that account's own login.
type Suggestion struct {
	Provider   string
	Connection string
	IsSocial   bool
	Email      string // masked: "a***e@example.com"
	Name       string // empty when unknown, or when it would show the email
}

// UserFinder finds users by email: Auth0's users-by-email, as the Management API
// client does it. Its errors say their kind (fault.FailureOf), as Upstream's do.
type UserFinder interface {
	UsersByEmail(ctx context.Context, email string) ([]*account.User, error)
}

// SuggestConfig configures a Suggester.
type SuggestConfig struct {
	// TTL is how long what the search found for an email is reused
	// (DefaultSuggestionTTL when 0).
	TTL time.Duration
	// MaxEntries bounds the emails kept (DefaultSuggestionEntries when 0).
	MaxEntries int
	Now        func() time.Time
}

// Defaults of SuggestConfig.
const (
	DefaultSuggestionTTL     = time.Minute
	DefaultSuggestionEntries = 10000
)

// Suggester finds link suggestions. The caller's own email and whether it is
// verified come from the identity service's view (cached); the search by email is
// cached per email for TTL, and concurrent misses share one search, so a page that
// asks on every load costs the Management API one call per person per TTL.
//
// The cache is per process and keyed by email rather than by caller: everyone who
// may read an entry has proved that very email (verified), and the accounts sharing
// one email then share one search. What was found is filtered against the caller's
// current view on every answer, so an account linked a moment ago is not suggested
// from a cached search even on another replica.
type Suggester struct {
	svc    *Service
	finder UserFinder
	cfg    SuggestConfig

	searches singleflight.Group
	mu       sync.Mutex
	found    map[string]searchResult // by email
}

type searchResult struct {
	users   []candidate
	expires time.Time
}

// candidate is what a suggestion needs of a user the search found.
type candidate struct {
	userID        string
	email         string
	emailVerified bool
	name          string
	primary       account.Identity
}

// NewSuggester returns a Suggester over svc's views and finder's search.
func NewSuggester(svc *Service, finder UserFinder, cfg SuggestConfig) *Suggester {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultSuggestionTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultSuggestionEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Suggester{svc: svc, finder: finder, cfg: cfg, found: map[string]searchResult{}}
}

// Suggest lists the other users of the tenant whose verified email is the caller's
// verified email, except identities the caller already has. A caller whose email
// is missing or unverified gets none, and no search is made: an unverified email
// proves nothing about who owns the other accounts.
func (s *Suggester) Suggest(ctx context.Context, userID string) ([]Suggestion, error) {
	v, err := s.svc.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(v.Identities) == 0 {
		return []Suggestion{}, nil
	}
	own := v.Identities[0].Profile
	if own.Email == "" || !own.EmailVerified {
		return []Suggestion{}, nil
	}
	users, err := s.search(ctx, own.Email)
	if err != nil {
		return nil, err
	}
	out := []Suggestion{}
	for _, c := range users {
		if c.userID == userID || !c.emailVerified || !strings.EqualFold(c.email, own.Email) {
			continue
		}
		if found, _ := v.has(c.primary.Provider, c.primary.UserID); found {
			continue
		}
		out = append(out, Suggestion{
			Provider:   c.primary.Provider,
			Connection: c.primary.Connection,
			IsSocial:   c.primary.IsSocial,
			Email:      MaskEmail(c.email),
			Name:       shownName(c.name),
		})
	}
	return out, nil
}

// search returns the users with email, from the cache while it is fresh.
func (s *Suggester) search(ctx context.Context, email string) ([]candidate, error) {
	if users, ok := s.cached(email); ok {
		return users, nil
	}
	return coalesced(ctx, &s.searches, email, func(ctx context.Context) ([]candidate, error) {
		found, err := s.finder.UsersByEmail(ctx, email)
		if err != nil {
			return nil, upstreamFault(err)
		}
		users := make([]candidate, 0, len(found))
		for _, u := range found {
			if len(u.Identities) == 0 {
				continue
			}
			users = append(users, candidate{userID: u.UserID, email: u.Email, emailVerified: u.EmailVerified, name: u.Name, primary: u.Identities[0]})
		}
		s.remember(email, users)
		return users, nil
	})
}

func (s *Suggester) cached(email string) ([]candidate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.found[email]
	if !ok || s.cfg.Now().After(r.expires) {
		return nil, false
	}
	return r.users, true
}

// remember caches a search. When the cache is full it first drops what has
// expired, then, if still full, any one entry: a bound on memory, not an eviction
// policy worth more, since an entry lives a minute.
func (s *Suggester) remember(email string, users []candidate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if _, ok := s.found[email]; !ok && len(s.found) >= s.cfg.MaxEntries {
		for k, r := range s.found {
			if now.After(r.expires) {
				delete(s.found, k)
			}
		}
		for k := range s.found {
			if len(s.found) < s.cfg.MaxEntries {
				break
			}
			delete(s.found, k)
		}
	}
	s.found[email] = searchResult{users: users, expires: now.Add(s.cfg.TTL)}
}

// MaskEmail keeps the first and last character of an email's local part and its
// domain: "alice@example.com" becomes "a***e@example.com", enough for a person to
// recognize their own address. A local part of one or two characters keeps only
// its first; something that is not an email is masked whole.
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	r := []rune(local)
	switch {
	case !ok || len(r) == 0 || domain == "":
		return "***"
	case len(r) <= 2:
		return string(r[0]) + "***@" + domain
	default:
		return string(r[0]) + "***" + string(r[len(r)-1]) + "@" + domain
	}
}

// shownName is a user's name as a suggestion may show it: not at all when it holds
// an email (Auth0 names database users by their email), which would undo the mask.
func shownName(name string) string {
	if strings.Contains(name, "@") {
		return ""
	}
	return name
}
