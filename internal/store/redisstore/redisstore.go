// Package redisstore owns the identity service's shared state on Redis: one-time link
// intents, the identity read cache with its cross-replica stale-read guard
// (identity.SharedCache), and the per-user lock that serializes link and unlink, so
// that every replica pointed at one Redis sees the same state. Beside the sessions
// themselves (scs's goredisstore), it keeps webauth's Registry: the sessions of each
// user and login session, and the used back-channel logout tokens. It also builds
// the *redis.Client that linkbff shares between these stores and the session store.
//
// Expiry of intents and views is judged by the store's own clock (Options.Now), with
// the instant kept beside the value; the Redis TTL on every key is garbage collection
// only and is set a margin later. Lock holds live in Redis time (PX), because what
// must end them is a holder that died.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrUnavailable is wrapped by every error that comes from Redis not answering in
// time (the client's timeouts, see NewClient), refusing connections, or answering
// with an error: the caller should answer 503 and retry later. The error wraps the
// cause too. When the caller's context ends first, the error wraps ctx's error
// instead of this one.
var ErrUnavailable = errors.New("redis unavailable")

// Defaults, stated once.
const (
	DefaultPrefix  = "linkbff:"
	DefaultLockTTL = 30 * time.Second

	// Timeouts NewClient sets unless the URL sets them (dial_timeout, read_timeout,
	// write_timeout, pool_timeout). Every command here is a few keys or a short
	// script, answered in well under a millisecond by a healthy server; a second of
	// silence means it is not healthy, and the request still has time to answer 503.
	DefaultDialTimeout = 2 * time.Second
	DefaultIOTimeout   = time.Second
	DefaultPoolTimeout = 2 * time.Second
)

// gcMargin is how much longer than its own expiry Redis keeps an intent or a view:
// room for the replicas' clocks to disagree a little.
const gcMargin = time.Minute

// NewClient returns a client for a redis:// or rediss:// URL (redis.ParseURL's
// syntax), with bounded timeouts and the caller's context deadlines honoured, so
// that no command outlives a request. It does not connect: the first command does,
// and go-redis reconnects by itself after an outage.
func NewClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: keep url.Parse's reason, not its quote.
		if uerr, ok := errors.AsType[*neturl.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = DefaultIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = DefaultIOTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = DefaultPoolTimeout
	}
	// go-redis's defaults retry a failed dial 5 times and a command 3 times, with
	// back-off, which adds up to seconds against a server that is down. One retry of
	// the command (with a fresh dial) is enough to get past a connection the server
	// closed.
	if opts.DialerRetries == 0 {
		opts.DialerRetries = 1
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 1
	}
	opts.ContextTimeoutEnabled = true
	// Maintenance notifications are a Redis Enterprise feature; asking a plain server
	// for them on every new connection only costs a round trip.
	if opts.MaintNotificationsConfig == nil {
		opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	return redis.NewClient(opts), nil
}

// Options configure a Store.
type Options struct {
	// Prefix starts every key (default DefaultPrefix), so that several deployments or
	// tests can share one Redis.
	Prefix string
	// Now is the clock that judges the expiry of intents and views (default
	// time.Now).
	Now func() time.Time
	// LockTTL is how long a lock hold lives if its holder never unlocks (it died):
	// keep it above the longest link or unlink, the request deadline (default
	// DefaultLockTTL).
	LockTTL time.Duration
}

// Store implements identity.Store and identity.SharedCache on Redis. It is safe for
// concurrent use, and any number of Stores (replicas) may share one Redis and prefix.
type Store struct {
	keyspace
	lockTTL time.Duration
}

// keyspace is what Store and Registry share: a client, the prefix of their keys,
// and the clock that judges expiry.
type keyspace struct {
	rdb    *redis.Client
	prefix string
	now    func() time.Time
}

// newKeyspace applies opts' defaults for Prefix and Now.
func newKeyspace(rdb *redis.Client, opts Options) keyspace {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return keyspace{rdb: rdb, prefix: opts.Prefix, now: opts.Now}
}

// New returns a Store on rdb, which the caller keeps and closes.
func New(rdb *redis.Client, opts Options) *Store {
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	return &Store{keyspace: newKeyspace(rdb, opts), lockTTL: opts.LockTTL}
}

// Ping reports whether Redis answers: the readiness check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable(ctx, "ping", err)
	}
	return nil
}

// key names a key of kind (e.g. "view") for id under the prefix.
func (k keyspace) key(kind, id string) string { return k.prefix + kind + ":" + id }

// unavailable wraps the error of a Redis command in ErrUnavailable, unless the
// command failed because ctx ended: then the caller gave up (its deadline passed or
// it went away), which is no news about Redis, and the error wraps ctx's.
func unavailable(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("redisstore: %s: %w (%v)", op, ctx.Err(), err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, ErrUnavailable, err)
}

// px is a Redis TTL in milliseconds for something that lives ttl (at least 1 ms,
// as PX 0 is an error).
func px(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }
