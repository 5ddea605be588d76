package hitbox

import (
	"context"
	"errors"
)

// Backend keeps entries by key. Stores, layers and tiers are all Backends,
// so a pipeline of any depth is one Backend too.
//
// Implementations must be safe for concurrent use. Every method takes the
// caller's context first and must return promptly, with an error wrapping
// ctx.Err(), once it is done. An empty key is refused with ErrInvalidKey.
type Backend interface {
	// Get returns the live entry under key, or an error wrapping ErrMiss
	// when there is none. It never returns an expired entry. The returned
	// Value must not be modified by the caller.
	Get(ctx context.Context, key string) (Entry, error)
	// Set stores e under key, replacing what was there. An entry whose
	// Expire has already passed is never returned by a later Get (and is
	// not an error): a store may skip writing it or drop it when read, but
	// either way it replaces what key held. Set does not keep e.Value after
	// it returns. What Set accepts, Get returns: a value the backend could
	// not give back (over a limit its reader applies, say) is refused with
	// an error wrapping a *SizeError that names the limit.
	Set(ctx context.Context, key string, e Entry) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Label names the backend in metrics, traces and errors, for example
	// "memory" or "redis". It is constant and of low cardinality.
	Label() string
}

// Result is one key's answer in a batch read: an entry, or an error that
// wraps ErrMiss when the key holds nothing.
type Result struct {
	Entry Entry
	// Tags are the tags the entry was written with, filled by a Tagger's
	// GetMany so a batch read refills upper levels with them as GetTagged
	// does for one key. They are nil for an untagged entry and from a
	// backend that keeps no tags. Receivers must not modify them.
	Tags []string
	Err  error
}

// Item is one key and entry in a batch write.
type Item struct {
	Key   string
	Entry Entry
}

// BatchGetter is a Backend that reads many keys in one round trip.
type BatchGetter interface {
	// GetMany returns one Result per key, in the order of keys. The error
	// is for a failure of the whole batch; misses are per Result.
	GetMany(ctx context.Context, keys []string) ([]Result, error)
}

// BatchSetter is a Backend that writes many entries in one round trip.
type BatchSetter interface {
	// SetMany stores every item. It returns an error when any failed.
	SetMany(ctx context.Context, items []Item) error
}

// BatchDeleter is a Backend that removes many keys in one round trip.
type BatchDeleter interface {
	// DeleteMany removes every key. It returns an error when any failed.
	DeleteMany(ctx context.Context, keys []string) error
}

// Clearer is a Backend that can remove everything it holds, and only that:
// a store with a key prefix clears that prefix, never the whole server.
type Clearer interface {
	Clear(ctx context.Context) error
}

// PrefixClearer is a Backend that can remove every key starting with a
// prefix, and only those, so one namespace (a tenant, a version, what a
// layer.Prefix owns) is cleared while the others stay. The prefix is matched
// against the keys as the backend's callers give them: a store with a key
// prefix of its own matches under it, never beyond it. An empty prefix is
// refused with ErrInvalidKey: Clear is the way to remove everything.
//
// ClearPrefix is not atomic: a key written under the prefix while it runs
// may or may not survive it.
type PrefixClearer interface {
	ClearPrefix(ctx context.Context, prefix string) error
}

// Remover is a Backend whose delete says whether there was something to
// delete, in the same call (an HTTP purge answers 404 for an absent entry).
type Remover interface {
	// Remove deletes key and reports whether it held a live entry, one a
	// Get would have returned just before. An absent or expired key is
	// removed=false and no error. On an error removed is false and key may
	// or may not have been removed.
	Remove(ctx context.Context, key string) (removed bool, err error)
}

// Stamper is a Backend that can tell, without reading a value, that what
// a key holds has not changed since an earlier read, so a front that
// keeps the key's value decoded in this process (httpcache's front of
// hot responses) may answer it without a read. Only a store in this
// process can offer it: a stamp of a shared store costs as much as the
// read it would spare.
type Stamper interface {
	// Stamp returns key's stamp, which every change to what key holds
	// made through the backend (a write, delete, leased write, clear or
	// tag purge) moves before the change can be read, and ok=false while
	// such a change may be under way. A caller that gets the same stamp,
	// ok both times, from a Stamp before and one after a Get may take
	// that Get's entry as key's for as long as later Stamps return the
	// stamp, ok, and its Expire has not passed. What the backend drops
	// on its own moves no stamp (an entry evicted for room, one dropped
	// as expired, memstore's entries under a tag it forgot to stay within
	// MaxTagVersions): the caller's copy is then still the last value
	// written. A stamp may also move for a change to another key, which
	// costs the caller a read. Stamp is as cheap as a few memory loads,
	// so it takes no context; on a closed backend ok is false.
	Stamp(key string) (stamp uint64, ok bool)
	// Hit tells the backend that a read of key was answered from a copy
	// its stamp vouched for, without a Get: a store that keeps a record
	// of its reads (memstore's admission and eviction) counts it as a
	// hit, so a key read only through the copy is not taken for a cold
	// one. It is as cheap as Stamp.
	Hit(key string)
}

// Closer is a Backend that holds resources (goroutines, connections). Close
// releases them; it is idempotent, and operations after it fail with
// ErrClosed.
type Closer interface {
	Close() error
}

// Unwrapper is a layer that exposes the Backend it wraps, so tools can walk
// a pipeline. It plays no part in forwarding abilities.
type Unwrapper interface {
	Unwrap() Backend
}

// GetMany reads keys from b in one call when b is a BatchGetter, and one key
// at a time otherwise. Either way it returns one Result per key, with its
// tags when b is a Tagger.
func GetMany(ctx context.Context, b Backend, keys []string) ([]Result, error) {
	if bg, ok := b.(BatchGetter); ok {
		return bg.GetMany(ctx, keys)
	}
	t, tagged := b.(Tagger)
	out := make([]Result, len(keys))
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if tagged {
			out[i].Entry, out[i].Tags, out[i].Err = t.GetTagged(ctx, k)
		} else {
			out[i].Entry, out[i].Err = b.Get(ctx, k)
		}
	}
	return out, nil
}

// SetMany writes items to b in one call when b is a BatchSetter, and one at
// a time otherwise, stopping at the first error.
func SetMany(ctx context.Context, b Backend, items []Item) error {
	if bs, ok := b.(BatchSetter); ok {
		return bs.SetMany(ctx, items)
	}
	for _, it := range items {
		if err := b.Set(ctx, it.Key, it.Entry); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMany removes keys from b in one call when b is a BatchDeleter, and
// one at a time otherwise, stopping at the first error.
func DeleteMany(ctx context.Context, b Backend, keys []string) error {
	if bd, ok := b.(BatchDeleter); ok {
		return bd.DeleteMany(ctx, keys)
	}
	for _, k := range keys {
		if err := b.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// Clear empties b when it is a Clearer, and returns an error wrapping
// ErrNotSupported otherwise: there is no safe fallback.
func Clear(ctx context.Context, b Backend) error {
	if c, ok := b.(Clearer); ok {
		return c.Clear(ctx)
	}
	return &Error{Op: OpClear, Backend: b.Label(), Err: ErrNotSupported}
}

// ClearPrefix removes every key of b that starts with prefix when b is a
// PrefixClearer, and returns an error wrapping ErrNotSupported otherwise:
// there is no safe fallback (nothing lists a backend's keys, and Clear would
// remove other namespaces too). An empty prefix is refused with an error
// wrapping ErrInvalidKey.
func ClearPrefix(ctx context.Context, b Backend, prefix string) error {
	if prefix == "" {
		return &Error{Op: OpClearPrefix, Backend: b.Label(), Err: ErrInvalidKey}
	}
	if c, ok := b.(PrefixClearer); ok {
		return c.ClearPrefix(ctx, prefix)
	}
	return &Error{Op: OpClearPrefix, Backend: b.Label(), Err: ErrNotSupported}
}

// Remove deletes key from b and reports whether b held a live entry under
// it: in one call when b is a Remover, and otherwise by a Get then a
// Delete. The fallback is not atomic (a Set between the two is deleted but
// not reported) and reads the whole value; a damaged entry (ErrCorrupt)
// counts as absent, and a Get that fails otherwise fails Remove before
// anything is deleted.
func Remove(ctx context.Context, b Backend, key string) (removed bool, err error) {
	if r, ok := b.(Remover); ok {
		return r.Remove(ctx, key)
	}
	_, err = b.Get(ctx, key)
	switch {
	case err == nil:
		removed = true
	case errors.Is(err, ErrMiss) || errors.Is(err, ErrCorrupt):
	default:
		return false, err
	}
	if err := b.Delete(ctx, key); err != nil {
		return false, err
	}
	return removed, nil
}

// Close releases b's resources when it is a Closer, and does nothing
// otherwise.
func Close(b Backend) error {
	if c, ok := b.(Closer); ok {
		return c.Close()
	}
	return nil
}
