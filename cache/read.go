package cache

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// Get returns the value under key while it is live, fresh or stale. A
// missing key gives an error wrapping ErrMiss, and so does a cached "not
// found" (see Options.MissTTL). Bytes that cannot be decoded also give an
// error wrapping ErrMiss (and ErrCorrupt), and are deleted, so a caller
// that treats a miss as a miss moves on.
//
// With a front, a fresh value may come from it: the value is then shared
// with every other caller, and must be treated as read-only (see Front).
func (c *Cache[T]) Get(ctx context.Context, key string) (T, error) {
	// One call and nothing else, so Get is small enough to be inlined
	// where it is called (it is at the compiler's budget: anything added
	// here stops that): a front hit then costs one call, and its value is
	// copied from the front's entry into the caller's result, not passed
	// back through registers and stack copies of T.
	var a answer[T]
	p := c.get(ctx, key, &a)
	return *p, a.err
}

// answer is what Get answers when it is not a front hit.
type answer[T any] struct {
	v   T
	err error
}

// get is Get: it returns a pointer to the value to answer, which the
// caller copies: the value of a front hit (with a nil error), or out's,
// where any other answer is written.
//
// A front hit answers here, with otter's lookup written in: the hit is the
// front's whole point, and otter's own cost is the floor it is held to.
// Only the common hit is judged here (an untagged value, without
// deadlines or before them by the coarse clock, in a front without Copy),
// with no call but otter's: anything else goes on to getFront with what
// the lookup found.
//
//go:noinline
func (c *Cache[T]) get(ctx context.Context, key string, out *answer[T]) *T {
	if f := c.front; f != nil && f.state.Load() == 0 {
		fe, ok := f.m.GetIfPresent(key)
		if ok && fe.x == nil && f.common && (fe.until == 0 || clock.now.Load() < fe.until) {
			return &fe.v
		}
		out.v, out.err = c.getFront(ctx, key, fe, ok)
		return &out.v
	}
	out.v, out.err = c.getBehind(ctx, key)
	return &out.v
}

// getFront is Get for a key whose front lookup found fe (ok) but not the
// common hit: a tagged value, a cached "not found", a value no longer
// fresh, a front with Copy or a clock of its own (Options.Now), or
// nothing.
func (c *Cache[T]) getFront(ctx context.Context, key string, fe *frontEntry[T], ok bool) (T, error) {
	f := c.front
	if fe, _, ok := f.judge(key, fe, ok); ok {
		if fe.neg() {
			return *new(T), errNotFound
		}
		return f.out(fe.v), nil
	}
	return c.getBehind(ctx, key)
}

// getBehind is Get past the front. Apart, so get's frame holds only what
// a front hit needs.
//
//go:noinline
func (c *Cache[T]) getBehind(ctx context.Context, key string) (T, error) {
	h, err := c.readBehind(ctx, key, false)
	return h.v, err
}

// Lookup is Get that also says whether the value is fresh or stale.
func (c *Cache[T]) Lookup(ctx context.Context, key string) (T, hitbox.State, error) {
	h, err := c.read(ctx, key)
	return h.v, h.st, err
}

// hit is what read found: the value, its state, and when its freshness
// ends (Unix nanoseconds, 0 for never), with the instant it was judged at
// (0 when no clock was needed), for early refresh.
type hit[T any] struct {
	v     T
	st    hitbox.State
	until int64
	now   int64
	// fallback: the pipeline failed while the front's bus was down, and v
	// is the front's copy, served as stale-if-error (see frontFallback).
	fallback bool
}

// read answers Get and Lookup: from the front when it holds the key fresh,
// from the pipeline otherwise, filling the front with what it decodes.
func (c *Cache[T]) read(ctx context.Context, key string) (hit[T], error) {
	return c.readShared(ctx, key, false)
}

// fetch reads key from the pipeline, with its tags when a front must
// learn them to drop the entry when one is purged; without a front they
// are of no use here.
func (c *Cache[T]) fetch(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if c.front != nil {
		return hitbox.GetTagged(ctx, c.b, key)
	}
	e, err := c.b.Get(ctx, key)
	return e, nil, err
}

// readShared is read; with shared, callers reading key at the same time
// share one backend read (see sharedReads).
func (c *Cache[T]) readShared(ctx context.Context, key string, shared bool) (hit[T], error) {
	if f := c.front; f != nil {
		if fe, now, ok := f.hit(key); ok {
			if fe.neg() {
				return hit[T]{st: hitbox.Expired}, errNotFound
			}
			return hit[T]{v: f.out(fe.v), st: hitbox.Fresh, until: fe.until, now: now}, nil
		}
	}
	return c.readBehind(ctx, key, shared)
}

// readBehind is readShared past the front, which did not hold key fresh.
func (c *Cache[T]) readBehind(ctx context.Context, key string, shared bool) (hit[T], error) {
	var h hit[T]
	h.st = hitbox.Expired
	var stamp stamp
	if f := c.front; f != nil {
		stamp = f.stamp(key)
	}
	var e hitbox.Entry
	var tags []string
	var err error
	if shared {
		// GetOrLoad's read: its caller has a source, so a copy the
		// pipeline cannot prove current is no answer (hitbox.WithSource).
		e, tags, err = c.reads.do(c.withSource(ctx), key, c)
	} else {
		e, tags, err = c.fetch(ctx, key)
	}
	if err != nil {
		if errors.Is(err, hitbox.ErrCorrupt) && !errors.Is(err, hitbox.ErrMiss) {
			err = fmt.Errorf("%w: %w", hitbox.ErrMiss, err)
		}
		if c.front != nil && !errors.Is(err, hitbox.ErrMiss) && ctx.Err() == nil {
			if fh, ok := c.frontFallback(key); ok {
				if a := hitbox.AnswerFrom(ctx); a != nil {
					a.Record(a.Mark(), "cache", "front", 0)
					a.MarkUnproven()
				}
				return fh, nil
			}
		}
		return h, err
	}
	st := hitbox.Fresh
	if !e.Expire.IsZero() || !e.Stale.IsZero() {
		// Only an entry with deadlines needs the clock.
		now := c.opts.Now()
		if st = e.StateAt(now); st == hitbox.Expired {
			return h, hitbox.ErrMiss
		}
		h.now, h.until = now.UnixNano(), freshUntil(e)
	}
	if isNotFound(e.Value) {
		if st == hitbox.Fresh && c.front != nil {
			c.front.fill(key, stamp, &frontEntry[T]{x: notFoundExtra, until: h.until, expire: unixNano(e.Expire)}, tags)
		}
		return hit[T]{st: hitbox.Expired}, errNotFound
	}
	if c.raw {
		h.v = c.decodeRaw(e.Value)
	} else {
		// v, not h.v: what Unmarshal is given escapes to the heap, and
		// only this path should pay for it.
		var v T
		if err := c.format.Unmarshal(e.Value, &v); err != nil {
			// A value this type cannot read is worth nothing to anyone
			// using it: drop it so the next load writes one that can be
			// read.
			_ = c.Delete(ctx, key)
			return hit[T]{st: hitbox.Expired}, fmt.Errorf("%w: %w: %s: %w", hitbox.ErrMiss, hitbox.ErrCorrupt, c.format.Name(), err)
		}
		h.v = v
	}
	h.st = st
	if st == hitbox.Fresh && c.front != nil {
		c.front.fill(key, stamp, &frontEntry[T]{v: c.front.in(h.v), until: h.until, expire: unixNano(e.Expire)}, tags)
	}
	return h, nil
}

// frontFallback answers a read whose pipeline failed from the front's copy
// of key, as a stale value, when the front's bus is down: the front holds
// it but cannot prove it current (see hitbox.Invalidation.Down), so it is
// served only when the pipeline cannot answer, and only until its Expire.
// A read that tracks a hitbox.Answer finds it marked Unproven.
func (c *Cache[T]) frontFallback(key string) (hit[T], bool) {
	f := c.front
	if !f.down() {
		return hit[T]{}, false
	}
	fe, ok := f.peek(key)
	if !ok || fe.neg() || (fe.expire != 0 && c.opts.Now().UnixNano() >= fe.expire) {
		return hit[T]{}, false
	}
	return hit[T]{v: f.out(fe.v), st: hitbox.Stale, fallback: true}, true
}

// withSource is hitbox.WithSource for a pipeline whose reads heed it, and
// ctx as it is otherwise: the context costs an allocation per read.
func (c *Cache[T]) withSource(ctx context.Context) context.Context {
	if !c.source {
		return ctx
	}
	return hitbox.WithSource(ctx)
}
