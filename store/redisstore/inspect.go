package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// Stored is what a Redis value the store wrote says, for tools that show
// a stored entry (cmd/hitbox). Reading the entry through the Store is the
// way to use it; Stored is for looking at it.
type Stored struct {
	// Version is the stored format: 1 untagged, 2 tagged; that of the
	// entry after a lease's head, or 3 for a placeholder.
	Version byte
	// Leased is set when a lease's head precedes the entry: a load took a
	// lease on the key (and may have stored the entry through it).
	// Placeholder is set when nothing follows the head: a load is in
	// flight and nothing is stored (a read misses).
	Leased, Placeholder bool
	// Expire and Stale are the deadlines in the header; zero means none.
	Expire, Stale time.Time
	// Tags are a tagged entry's tags, each with the version it had when
	// the entry was written. The entry is current while every tag's
	// version key (TagVersionKey) still holds that version.
	Tags []StoredTag
	// Value is the value as given to Set: a subslice of the input.
	Value []byte
}

// StoredTag is one tag of a stored entry and the version it was written
// with.
type StoredTag struct {
	Tag     string
	Version []byte
}

// ParseStored reads a value the store wrote, with no side effects. It
// fails, with an error wrapping hitbox.ErrCorrupt, exactly when the
// store's reads would find the value damaged or foreign, and then returns
// what could still be read before the damage (the version and the
// deadlines of a value whose tag section is cut short, say). It never
// panics.
func ParseStored(raw []byte) (Stored, error) {
	var st Stored
	if inner, ok := unlease(raw); ok {
		st.Leased = true
		if len(inner) == 0 {
			st.Version, st.Placeholder = versionLease, true
			return st, nil
		}
		raw = inner
	}
	if len(raw) >= 2 && raw[0] == mark {
		st.Version = raw[1]
	}
	if len(raw) >= headerSize && raw[0] == mark {
		st.Expire, _ = readTime(raw[2:14])
		st.Stale, _ = readTime(raw[14:26])
	}
	e, sect, err := decode(raw)
	if err != nil {
		return st, err
	}
	st.Expire, st.Stale, st.Value = e.Expire, e.Stale, e.Value
	if sect != nil {
		eachTag(sect, func(tag, ver []byte) {
			st.Tags = append(st.Tags, StoredTag{Tag: string(tag), Version: ver[:len(ver):len(ver)]})
		})
	}
	return st, nil
}

// TagVersionKey returns the Redis key that holds tag's current version in
// a store with the given Prefix.
func TagVersionKey(prefix, tag string) string { return prefix + tagSpace + tag }

// TagOfKey returns the tag whose version a Redis key holds in a store with
// the given Prefix, and whether the key is one of those.
func TagOfKey(prefix, key string) (tag string, ok bool) {
	return strings.CutPrefix(key, prefix+tagSpace)
}

// Keys calls f with every entry's key (without the store's Prefix) under
// the Prefix whose rest matches the glob pattern match, as SCAN MATCH
// reads it ("" or "*" for every key). It walks with SCAN, never KEYS, on
// every master of a cluster and every shard of a ring; tag versions are
// skipped, lock keys are not. A key may be seen twice when the server
// rehashes during the walk, and one written meanwhile may be missed. It
// stops at the first error f returns, and returns it. f is called by one
// goroutine at a time.
func (s *Store) Keys(ctx context.Context, match string, f func(key string) error) error {
	if match == "" {
		match = "*"
	}
	return s.scan(ctx, opKeys, EscapeGlob(s.opt.Prefix)+match, s.opt.Prefix+tagSpace, len(s.opt.Prefix), f)
}

// Tags calls f with every tag that has a version in the store, walking
// as Keys does.
func (s *Store) Tags(ctx context.Context, f func(tag string) error) error {
	versions := s.opt.Prefix + tagSpace
	return s.scan(ctx, opKeys, EscapeGlob(versions)+"*", "", len(versions), f)
}

// scan calls f with the keys matching pattern on every server, but those
// starting with skip when it is not empty, each cut of its first strip
// bytes.
func (s *Store) scan(ctx context.Context, op, pattern, skip string, strip int, f func(string) error) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(op, err)
	}
	var (
		mu   sync.Mutex // ForEachMaster walks the masters at once; f is called by one at a time
		stop error
	)
	walk := func(ctx context.Context, node *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			for _, k := range keys {
				if stop != nil {
					break
				}
				if skip == "" || !strings.HasPrefix(k, skip) {
					stop = f(k[strip:])
				}
			}
			err = stop
			mu.Unlock()
			if err != nil {
				return err
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.Client:
		err = walk(ctx, c)
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, walk)
	case *redis.Ring:
		err = c.ForEachShard(ctx, walk)
	default:
		return s.fail(op, fmt.Errorf("%w: cannot reach every server through a %T", hitbox.ErrNotSupported, s.rdb))
	}
	if stop != nil {
		return stop
	}
	if err != nil {
		return s.fail(op, cause(ctx, err))
	}
	return nil
}

// opKeys names Keys and Tags in their errors.
const opKeys = "keys"
