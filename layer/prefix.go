package layer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hitbox-go/hitbox"
)

// Prefix returns a layer that puts every key, batch keys included, under
// the namespace p, so several caches can share one store.
//
// Two namespaces never share a key when p is a word and a ':' ("users:",
// "tenant-42:"): hitbox.Key escapes ':' inside its parts, so the first ':'
// of a stored key always ends the namespace. Without a separator, "ab" +
// "c" and "a" + "bc" would meet.
//
// Clear removes exactly the keys under p, through the store's ClearPrefix
// (hitbox.PrefixClearer): other namespaces stay. Over a store without that
// ability Clear fails with an error wrapping hitbox.ErrNotSupported rather
// than clear every namespace. ClearPrefix(q) clears p+q. Prefix panics when
// p is empty.
//
// Tags are namespaced like keys: SetTagged stores the tag t as p+t,
// InvalidateTags(t) purges p+t, and GetTagged returns the tags with p
// removed, so namespaces sharing a store never purge each other's
// entries. A tag then has len(p) bytes fewer to fit in hitbox.MaxTagLen;
// a longer one is refused here, with an error naming that smaller limit.
func Prefix(p string) hitbox.Layer {
	if p == "" {
		panic("hitbox/layer: Prefix: empty prefix")
	}
	return func(next hitbox.Backend) hitbox.Backend { return &prefixed{forward{next}, p} }
}

type prefixed struct {
	forward
	p string
}

// An empty key stays refused: prefixing it would make a valid key of it.
func (l *prefixed) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if key == "" {
		return hitbox.Entry{}, l.invalid(hitbox.OpGet)
	}
	return l.next.Get(ctx, l.p+key)
}

func (l *prefixed) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if key == "" {
		return l.invalid(hitbox.OpSet)
	}
	return l.next.Set(ctx, l.p+key, e)
}

func (l *prefixed) Delete(ctx context.Context, key string) error {
	if key == "" {
		return l.invalid(hitbox.OpDelete)
	}
	return l.next.Delete(ctx, l.p+key)
}

// TryLock takes the lock on the prefixed key, so namespaces lock apart.
func (l *prefixed) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	if key == "" {
		return nil, l.invalid(hitbox.OpLock)
	}
	return hitbox.TryLock(ctx, l.next, l.p+key, ttl)
}

// GetMany reads the keys in the namespace in one batch; each hit's
// Result.Tags lose the namespace as GetTagged's do.
func (l *prefixed) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	ks, err := l.keys(hitbox.OpGetMany, keys)
	if err != nil {
		return nil, err
	}
	rs, err := hitbox.GetMany(ctx, l.next, ks)
	if err != nil {
		return rs, err
	}
	for i := range rs {
		if len(rs[i].Tags) > 0 {
			rs[i].Tags = l.strip(rs[i].Tags)
		}
	}
	return rs, nil
}

func (l *prefixed) SetMany(ctx context.Context, items []hitbox.Item) error {
	out := make([]hitbox.Item, len(items))
	for i, it := range items {
		if it.Key == "" {
			return l.invalid(hitbox.OpSetMany)
		}
		out[i] = hitbox.Item{Key: l.p + it.Key, Entry: it.Entry}
	}
	return hitbox.SetMany(ctx, l.next, out)
}

func (l *prefixed) DeleteMany(ctx context.Context, keys []string) error {
	ks, err := l.keys(hitbox.OpDeleteMany, keys)
	if err != nil {
		return err
	}
	return hitbox.DeleteMany(ctx, l.next, ks)
}

func (l *prefixed) Remove(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, l.invalid(hitbox.OpRemove)
	}
	return hitbox.Remove(ctx, l.next, l.p+key)
}

func (l *prefixed) Clear(ctx context.Context) error {
	if _, ok := l.next.(hitbox.PrefixClearer); !ok {
		return &hitbox.Error{Op: hitbox.OpClear, Backend: l.Label(),
			Err: fmt.Errorf("prefix %q: the store below cannot clear one namespace, and Clear would clear them all: %w", l.p, hitbox.ErrNotSupported)}
	}
	return hitbox.ClearPrefix(ctx, l.next, l.p)
}

// An empty q is refused, as everywhere: Clear is the way to clear all of p.
func (l *prefixed) ClearPrefix(ctx context.Context, q string) error {
	if q == "" {
		return l.invalid(hitbox.OpClearPrefix)
	}
	return hitbox.ClearPrefix(ctx, l.next, l.p+q)
}

func (l *prefixed) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if key == "" {
		return l.invalid(hitbox.OpSet)
	}
	ts, err := l.tags(hitbox.OpSet, tags)
	if err != nil {
		return err
	}
	return hitbox.SetTagged(ctx, l.next, l.p+key, e, ts...)
}

// Lease takes the lease below on the namespaced key, for the namespaced
// tags.
func (l *prefixed) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if key == "" {
		return hitbox.Lease{}, l.invalid(hitbox.OpLease)
	}
	ts, err := l.tags(hitbox.OpLease, tags)
	if err != nil {
		return hitbox.Lease{}, err
	}
	return hitbox.TakeLease(ctx, l.next, l.p+key, ts)
}

func (l *prefixed) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, ls hitbox.Lease) error {
	if key == "" {
		return l.invalid(hitbox.OpSet)
	}
	ts, err := l.tags(hitbox.OpSet, tags)
	if err != nil {
		return err
	}
	return hitbox.SetLeased(ctx, l.next, l.p+key, e, ts, ls)
}

// GetTagged returns the entry's tags without the namespace. A tag outside
// it (written under the key without this layer) is left out: this layer
// could not purge it.
func (l *prefixed) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if key == "" {
		return hitbox.Entry{}, nil, l.invalid(hitbox.OpGet)
	}
	e, tags, err := hitbox.GetTagged(ctx, l.next, l.p+key)
	if err != nil || len(tags) == 0 {
		return e, nil, err
	}
	return e, l.strip(tags), nil
}

// strip returns tags without the namespace, leaving out those outside it;
// nil when none is left. tags is not modified: it may be the store's.
func (l *prefixed) strip(tags []string) []string {
	var out []string
	for _, t := range tags {
		if rest, ok := strings.CutPrefix(t, l.p); ok && rest != "" {
			out = append(out, rest)
		}
	}
	return out
}

func (l *prefixed) InvalidateTags(ctx context.Context, tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	ts, err := l.tags(hitbox.OpInvalidateTags, tags)
	if err != nil {
		return err
	}
	return hitbox.InvalidateTags(ctx, l.next, ts...)
}

// tags returns tags in the namespace. An empty tag stays refused, as an
// empty key does: prefixing it would make a valid tag of it.
func (l *prefixed) tags(op string, tags []string) ([]string, error) {
	out := make([]string, len(tags))
	for i, t := range tags {
		if t == "" {
			return nil, &hitbox.Error{Op: op, Backend: l.Label(), Err: fmt.Errorf("%w: empty tag", hitbox.ErrInvalidTag)}
		}
		if len(l.p)+len(t) > hitbox.MaxTagLen {
			// Said here, in the caller's terms: below, the store would
			// name a length the caller never wrote.
			return nil, &hitbox.Error{Op: op, Backend: l.Label(), Err: fmt.Errorf("%w: a tag of %d bytes, over the limit of %d (hitbox.MaxTagLen less the %d-byte prefix %q)",
				hitbox.ErrInvalidTag, len(t), hitbox.MaxTagLen-len(l.p), len(l.p), l.p)}
		}
		out[i] = l.p + t
	}
	return out, nil
}

func (l *prefixed) keys(op string, keys []string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		if k == "" {
			return nil, l.invalid(op)
		}
		out[i] = l.p + k
	}
	return out, nil
}

func (l *prefixed) invalid(op string) error {
	return &hitbox.Error{Op: op, Backend: l.Label(), Err: hitbox.ErrInvalidKey}
}
