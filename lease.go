package hitbox

import (
	"context"
	"errors"
)

// Lease is a load's claim on a key, taken when the load starts: the
// load's store succeeds only if no change to the key (a Set, a Delete, a
// Remove, a clear that covers it) and no purge of one of the load's tags
// happened since. It keeps a value read from the source before a change
// from being stored after that change, the stale set of "Scaling Memcache
// at Facebook" (NSDI 2013, §3.2.1), whose leases these are.
//
// A Lease is opaque: only the backend that handed it out reads Token. The
// zero Lease is "no lease"; SetLeased then stores unconditionally.
type Lease struct {
	// Token is what the backend needs to check the lease at store time
	// (a nonce the store keeps in the key's place, a version), in a form
	// of its own. Layers pass it through; a composite (a tier) packs the
	// tokens of its parts into one.
	Token string
}

// Valid reports whether l was handed out by a Leaser, rather than being
// the zero Lease of a backend without the ability.
func (l Lease) Valid() bool { return l.Token != "" }

// ErrLeaseLost is wrapped by SetLeased's error when the store was refused
// because a change crossed the lease: the loaded value is still the
// caller's answer, but it is not stored, since it may predate the change.
var ErrLeaseLost = errors.New("hitbox: lease lost to a change")

// Leaser is a Backend that can make a load's store conditional on no
// change having crossed the load: the ability behind stale-set prevention
// for GetOrLoad and the HTTP cache.
//
// The guarantee, for a lease taken by Lease(key, leased) that returned
// nil: SetLeased(key, e, tags, lease) stores e only if, between Lease and
// the store, no Set, SetTagged, SetLeased, Delete, Remove, DeleteMany,
// SetMany, Clear or ClearPrefix covering key, and no InvalidateTags of a
// tag in both leased and tags, took effect on the backend; otherwise it
// stores nothing and returns an error wrapping ErrLeaseLost. The check
// and the store are one atomic step in the store (a script on Redis, a
// per-key version in memory), so no change can slip between them. Several
// leases on one key may be outstanding; the first successful SetLeased
// ends none of them (each load saw the same state), but every change ends
// them all.
//
// The tags of the store may differ from those of the lease, in number and
// in names: a load often learns its entry's tags only from what it loads
// (an HTTP response's Surrogate-Key, say). A tag in both is checked as
// above. A tag only in tags is written at its version when SetLeased runs,
// so a purge of it after the store removes the entry, but one made during
// the load, before the store, is not seen: a caller that knows its tags
// when the load starts passes them to Lease. A tag only in leased is not
// checked: a purge of it removes only entries that carry it, and this one
// does not.
//
// A lease may lapse on its own after a time the store chooses (never
// shorter than a minute): a load that outlives it is refused like one a
// change crossed. Lease must not make the key read differently: a Get
// during a lease is a miss as before.
type Leaser interface {
	// Lease takes a lease on key for a load whose entry is expected to
	// carry tags (checked by CheckTags; may be empty): a purge of one of
	// them during the load refuses a store that carries it.
	Lease(ctx context.Context, key string, tags []string) (Lease, error)
	// SetLeased stores e under key with tags, as SetTagged does, if l
	// still holds for key and for the tags l and tags share; tags l did
	// not name are written at their current versions. A zero l stores
	// unconditionally.
	SetLeased(ctx context.Context, key string, e Entry, tags []string, l Lease) error
}

// TakeLease takes a lease on key from b for a load whose entry is expected
// to carry tags; the load may store with other tags (see Leaser). A backend that is not a Leaser gets the zero Lease and a nil
// error: over it, SetLeased stores unconditionally, and nothing protects
// the load's store from a change that crossed it but the caller's own
// bookkeeping (package cache drops a load that its own Delete or purge
// crossed; a change made by another process goes unseen).
func TakeLease(ctx context.Context, b Backend, key string, tags []string) (Lease, error) {
	if len(tags) > 0 {
		if err := CheckTags(tags); err != nil {
			return Lease{}, &Error{Op: OpLease, Backend: b.Label(), Err: err}
		}
	}
	if l, ok := b.(Leaser); ok {
		return l.Lease(ctx, key, tags)
	}
	return Lease{}, nil
}

// SetLeased stores e under key in b with tags if the lease l still holds
// (see Leaser); tags need not be those the lease was taken with. Over a backend that is not a Leaser, or with the zero
// Lease, it is SetTagged (Set when tags is empty).
func SetLeased(ctx context.Context, b Backend, key string, e Entry, tags []string, l Lease) error {
	if len(tags) > 0 {
		if err := CheckTags(tags); err != nil {
			return &Error{Op: OpSet, Backend: b.Label(), Err: err}
		}
	}
	if lb, ok := b.(Leaser); ok && l.Valid() {
		return lb.SetLeased(ctx, key, e, tags, l)
	}
	return SetTagged(ctx, b, key, e, tags...)
}
