package layer

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
)

// A transform rewrites each entry on its way down and restores it on its way
// up: Encode's envelope and Compress's compressor are transforms. The
// transformed layer around one handles the rest the same way for both: a
// damaged entry read back is reported as an error naming the store and is
// removed below, a batch read collects the damaged keys and removes them in
// one call, and the bytes written are assembled in pooled buffers.
type transform interface {
	// seal returns the entry to store below for e, its Value appended to
	// dst (a pooled buffer, reused once the write below returns). An error
	// means e cannot be stored: it is refused, and the key is removed below.
	seal(dst []byte, e hitbox.Entry) (hitbox.Entry, error)
	// open restores an entry read from below. An error (wrapping
	// hitbox.ErrCorrupt, for damage) means it cannot be returned: the key
	// is removed below.
	open(e hitbox.Entry) (hitbox.Entry, error)
}

// transformed is the layer of a transform.
type transformed struct {
	forward
	t transform
}

func (l *transformed) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, err := l.next.Get(ctx, key)
	if err != nil {
		return e, err
	}
	if e, err = l.t.open(e); err != nil {
		// Best effort: a damaged value would fail every read until it
		// expires, and a failed delete is tried again on the next read.
		_ = l.next.Delete(ctx, key)
		return hitbox.Entry{}, l.fail(hitbox.OpGet, err)
	}
	return e, nil
}

func (l *transformed) Set(ctx context.Context, key string, e hitbox.Entry) error {
	b := bufpool.Get()
	s, err := l.t.seal(*b, e)
	if err != nil {
		bufpool.Put(b)
		// As MaxSize does: a reader must not see the value this write was
		// meant to replace.
		refused := l.fail(hitbox.OpSet, err)
		if err := l.next.Delete(ctx, key); err != nil {
			return errors.Join(refused, err)
		}
		return refused
	}
	err = l.next.Set(ctx, key, s)
	*b = s.Value
	bufpool.Put(b)
	return err
}

func (l *transformed) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	rs, err := hitbox.GetMany(ctx, l.next, keys)
	if err != nil {
		return nil, err
	}
	out := make([]hitbox.Result, len(rs))
	var bad []string
	for i, r := range rs {
		if out[i] = r; r.Err != nil {
			continue
		}
		if out[i].Entry, out[i].Err = l.t.open(r.Entry); out[i].Err != nil {
			out[i].Entry, out[i].Err = hitbox.Entry{}, l.fail(hitbox.OpGet, out[i].Err)
			bad = append(bad, keys[i])
		}
	}
	if len(bad) > 0 {
		_ = hitbox.DeleteMany(ctx, l.next, bad) // best effort, as in Get
	}
	return out, nil
}

// SetMany writes the items the transform can seal in one batch and reports
// the others, each by its index; like a loop of Set, a key whose last item
// was refused is removed below.
func (l *transformed) SetMany(ctx context.Context, items []hitbox.Item) error {
	sealed := make([]hitbox.Item, 0, len(items))
	held := make([]*[]byte, 0, len(items))
	defer func() {
		for i, b := range held {
			*b = sealed[i].Entry.Value
			bufpool.Put(b)
		}
	}()
	var refused []error
	var bad []bool // which items were refused; made on the first refusal
	for i, it := range items {
		b := bufpool.Get()
		s, err := l.t.seal(*b, it.Entry)
		if err != nil {
			bufpool.Put(b)
			if bad == nil {
				bad = make([]bool, len(items))
			}
			bad[i] = true
			refused = append(refused, fmt.Errorf("item %d: %w", i, err))
			continue
		}
		held = append(held, b)
		sealed = append(sealed, hitbox.Item{Key: it.Key, Entry: s})
	}
	if refused == nil {
		return hitbox.SetMany(ctx, l.next, sealed)
	}
	errs := []error{l.fail(hitbox.OpSetMany, errors.Join(refused...))}
	if len(sealed) > 0 {
		errs = append(errs, hitbox.SetMany(ctx, l.next, sealed))
	}
	errs = append(errs, hitbox.DeleteMany(ctx, l.next, lastRefused(items, bad)))
	return errors.Join(errs...)
}

// lastRefused returns, once each, the keys whose last item was refused (bad
// says which): after a loop of Set they would hold nothing.
func lastRefused(items []hitbox.Item, bad []bool) []string {
	last := make(map[string]bool, len(items)) // key -> its last item was refused
	for i, it := range items {
		last[it.Key] = bad[i]
	}
	var keys []string
	for _, it := range items {
		if last[it.Key] {
			keys = append(keys, it.Key)
			last[it.Key] = false
		}
	}
	return keys
}
