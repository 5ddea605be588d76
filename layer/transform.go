package layer

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
)

// A value transform rewrites each entry on its way down and restores it on
// its way up: Encode's envelope and Compress's compressor are the two there
// are. transformed is the layer of either, and handles the rest the same way
// for both: a damaged entry read back is reported as an error naming the
// store and is removed below, a batch read collects the damaged keys and
// removes them in one call, a value that cannot be sealed is refused and its
// key removed below, and the bytes written are assembled in pooled buffers.
type transformed struct {
	forward
	// c is Compress's transform; nil means Encode's envelope. A field and
	// a branch rather than an interface: an Entry is nine machine words,
	// and an interface call would copy it twice more on Encode's Get
	// (passing it by pointer instead makes it escape to the heap).
	// BenchmarkEncode in bench_test.go measures Encode's Get.
	c *compressor
}

// seal returns the entry to store below for e, its Value appended to dst (a
// pooled buffer, reused once the write below returns). An error means e
// cannot be stored.
func (l *transformed) seal(dst []byte, e hitbox.Entry) (hitbox.Entry, error) {
	if l.c == nil {
		return sealEnvelope(dst, e), nil
	}
	return l.c.seal(dst, e)
}

// open restores an entry read from below. An error (wrapping
// hitbox.ErrCorrupt, for damage) means it cannot be returned.
func (l *transformed) open(e hitbox.Entry) (hitbox.Entry, error) {
	if l.c == nil {
		return openEnvelope(e.Value)
	}
	return l.c.open(e)
}

// Get and Set spell out the choice open and seal make, and keep their
// failure paths out of line, so they cost what a layer written for one
// transform would: every read and write of a pipeline takes them.
func (l *transformed) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, err := l.next.Get(ctx, key)
	if err != nil {
		return e, err
	}
	if l.c == nil {
		e, err = openEnvelope(e.Value)
	} else {
		e, err = l.c.open(e)
	}
	if err != nil {
		return hitbox.Entry{}, l.damaged(ctx, key, err)
	}
	return e, nil
}

// damaged removes key below after its value could not be opened, and
// returns err as the layer's error. The delete is best effort: a damaged
// value would fail every read until it expires, and a failed delete is
// tried again on the next read.
func (l *transformed) damaged(ctx context.Context, key string, err error) error {
	_ = l.next.Delete(ctx, key)
	return l.fail(hitbox.OpGet, err)
}

func (l *transformed) Set(ctx context.Context, key string, e hitbox.Entry) error {
	b := bufpool.Get()
	if l.c == nil {
		v := appendEnvelope(*b, e)
		err := l.next.Set(ctx, key, hitbox.Entry{Value: v, Expire: e.Expire})
		bufpool.Put(b, v)
		return err
	}
	var err error
	if e, err = l.c.seal(*b, e); err != nil {
		bufpool.Put(b, *b)
		return l.refused(ctx, key, err)
	}
	err = l.next.Set(ctx, key, e)
	bufpool.Put(b, e.Value)
	return err
}

// refused removes key below after its new value could not be sealed, as
// MaxSize does, so a reader never sees the value the refused write was
// meant to replace, and returns err as the layer's error.
func (l *transformed) refused(ctx context.Context, key string, err error) error {
	refused := l.fail(hitbox.OpSet, err)
	if err := l.next.Delete(ctx, key); err != nil {
		return errors.Join(refused, err)
	}
	return refused
}

// SetTagged seals e as Set does and stores it below with tags, which the
// transform leaves as they are: they travel beside the value, not in it.
func (l *transformed) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	b := bufpool.Get()
	sealed, err := l.seal(*b, e)
	if err != nil {
		bufpool.Put(b, *b)
		return l.refused(ctx, key, err)
	}
	err = hitbox.SetTagged(ctx, l.next, key, sealed, tags...)
	bufpool.Put(b, sealed.Value)
	return err
}

// SetLeased seals e as Set does and stores it below with tags if the
// lease l still holds there. A value that cannot be sealed is refused as
// by Set (key is removed below, which ends the key's leases there).
func (l *transformed) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, ls hitbox.Lease) error {
	b := bufpool.Get()
	sealed, err := l.seal(*b, e)
	if err != nil {
		bufpool.Put(b, *b)
		return l.refused(ctx, key, err)
	}
	err = hitbox.SetLeased(ctx, l.next, key, sealed, tags, ls)
	bufpool.Put(b, sealed.Value)
	return err
}

// GetTagged reads key below with its tags and opens the value as Get
// does: a damaged value is an error wrapping hitbox.ErrCorrupt, and the
// key is removed below.
func (l *transformed) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	e, tags, err := hitbox.GetTagged(ctx, l.next, key)
	if err != nil {
		return e, nil, err
	}
	if e, err = l.open(e); err != nil {
		return hitbox.Entry{}, nil, l.damaged(ctx, key, err)
	}
	return e, tags, nil
}

// GetMany reads keys below in one batch and opens each value as Get does;
// a hit keeps its Result.Tags, which travel beside the value.
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
		if out[i].Entry, err = l.open(r.Entry); err != nil {
			out[i] = hitbox.Result{Err: l.fail(hitbox.OpGet, err)}
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
			bufpool.Put(b, sealed[i].Entry.Value)
		}
	}()
	var refused []error
	var bad []bool // which items were refused; made on the first refusal
	for i, it := range items {
		b := bufpool.Get()
		var err error
		if it.Entry, err = l.seal(*b, it.Entry); err != nil {
			bufpool.Put(b, *b)
			if bad == nil {
				bad = make([]bool, len(items))
			}
			bad[i] = true
			refused = append(refused, fmt.Errorf("item %d: %w", i, err))
			continue
		}
		held = append(held, b)
		sealed = append(sealed, it)
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
