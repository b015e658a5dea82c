package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/identity"
)

// A user's view lives at "view:{user}" as JSON with its expiry; the user's write
// generation (identity.SharedCache) at "gen:{user}", a counter that link and unlink
// advance in the same script that stores their result.

// genTTL is how long Redis keeps a write generation after the last write. A read
// compares the generation it saw with the current one, and a key that expired in
// between would read as 0 again: only a read slower than genTTL could be fooled.
const genTTL = 24 * time.Hour

// cachedView is the stored form of a view. A sealed view (one with a Doc) is stored
// as its Doc: the encoded view goes in as it is, with its tag, so that neither
// writing nor reading it encodes the view again.
type cachedView struct {
	Expires int64           `json:"expires"` // unix ms, judged by Store.now
	ETag    string          `json:"etag,omitempty"`
	View    json.RawMessage `json:"view"`
}

// setViewIf stores a view only while the user's generation is what the reader saw.
//
// KEYS: gen, view; ARGV: expected generation, view JSON, gc ms.
var setViewIf = redis.NewScript(`
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`)

// wrote advances the generation and stores the write's result (or forgets the view
// when ARGV[1] is empty) in one step, so no reader can slip in between.
//
// KEYS: gen, view; ARGV: view JSON or "", gc ms, generation ttl ms.
var wrote = redis.NewScript(`
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[1] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
return 1
`)

// GetView implements identity.Cache.
func (s *Store) GetView(ctx context.Context, userID string) (identity.View, bool, error) {
	b, err := s.rdb.Get(ctx, s.key("view", userID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return identity.View{}, false, nil
	}
	if err != nil {
		return identity.View{}, false, unavailable(ctx, "get view", err)
	}
	var c cachedView
	if err := json.Unmarshal(b, &c); err != nil {
		return identity.View{}, false, fmt.Errorf("redisstore: cached view of %q: %w", userID, err)
	}
	if s.now().UnixMilli() > c.Expires {
		return identity.View{}, false, nil
	}
	var v identity.View
	if err := json.Unmarshal(c.View, &v); err != nil {
		return identity.View{}, false, fmt.Errorf("redisstore: cached view of %q: %w", userID, err)
	}
	if c.ETag != "" {
		v.Doc = identity.NewDoc(c.View, c.ETag)
	}
	return v, true, nil
}

// SetView implements identity.Cache.
func (s *Store) SetView(ctx context.Context, userID string, v identity.View, ttl time.Duration) error {
	b, err := s.encodeView(v, ttl)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.key("view", userID), b, time.Duration(px(ttl+gcMargin))*time.Millisecond).Err(); err != nil {
		return unavailable(ctx, "set view", err)
	}
	return nil
}

// DeleteView implements identity.Cache.
func (s *Store) DeleteView(ctx context.Context, userID string) error {
	if err := s.rdb.Del(ctx, s.key("view", userID)).Err(); err != nil {
		return unavailable(ctx, "delete view", err)
	}
	return nil
}

// Generation implements identity.SharedCache.
func (s *Store) Generation(ctx context.Context, userID string) (uint64, error) {
	g, err := s.rdb.Get(ctx, s.key("gen", userID)).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(ctx, "get generation", err)
	}
	return g, nil
}

// SetViewIf implements identity.SharedCache.
func (s *Store) SetViewIf(ctx context.Context, userID string, gen uint64, v identity.View, ttl time.Duration) (bool, error) {
	b, err := s.encodeView(v, ttl)
	if err != nil {
		return false, err
	}
	n, err := setViewIf.Run(ctx, s.rdb, []string{s.key("gen", userID), s.key("view", userID)},
		strconv.FormatUint(gen, 10), b, px(ttl+gcMargin)).Int()
	if err != nil {
		return false, unavailable(ctx, "set view", err)
	}
	return n == 1, nil
}

// Wrote implements identity.SharedCache.
func (s *Store) Wrote(ctx context.Context, userID string, v *identity.View, ttl time.Duration) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = s.encodeView(*v, ttl); err != nil {
			return err
		}
	}
	err := wrote.Run(ctx, s.rdb, []string{s.key("gen", userID), s.key("view", userID)},
		b, px(ttl+gcMargin), px(genTTL)).Err()
	if err != nil {
		return unavailable(ctx, "record write", err)
	}
	return nil
}

func (s *Store) encodeView(v identity.View, ttl time.Duration) ([]byte, error) {
	c := cachedView{Expires: s.now().Add(ttl).UnixMilli()}
	if v.Doc != nil {
		c.ETag, c.View = v.Doc.ETag, v.Doc.JSON
	} else {
		var err error
		if c.View, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("redisstore: encoding view: %w", err)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encoding view: %w", err)
	}
	return b, nil
}
