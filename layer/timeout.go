package layer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
)

// Timeout returns a layer that bounds every operation to d, unless the
// caller's own deadline comes sooner. An operation cut short fails with an
// error wrapping context.DeadlineExceeded, even when the backend below
// reported the cut in its own words (an I/O timeout, say). Close is not
// bounded: it takes no context. Timeout panics when d is not positive.
func Timeout(d time.Duration) hitbox.Layer {
	if d <= 0 {
		panic(fmt.Sprintf("hitbox/layer: Timeout: d is %v, want a positive duration", d))
	}
	return func(next hitbox.Backend) hitbox.Backend { return &timed{forward{next}, d} }
}

type timed struct {
	forward
	d time.Duration
}

func (l *timed) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	e, err := l.next.Get(c, key)
	return e, l.check(ctx, c, err)
}

func (l *timed) Set(ctx context.Context, key string, e hitbox.Entry) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, l.next.Set(c, key, e))
}

func (l *timed) Delete(ctx context.Context, key string) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, l.next.Delete(c, key))
}

// TryLock is bounded like every operation; the lock it returns is the
// store's, and its Extend and Unlock are bounded by their own contexts.
func (l *timed) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	lk, err := hitbox.TryLock(c, l.next, key, ttl)
	return lk, l.check(ctx, c, err)
}

func (l *timed) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	rs, err := hitbox.GetMany(c, l.next, keys)
	return rs, l.check(ctx, c, err)
}

func (l *timed) SetMany(ctx context.Context, items []hitbox.Item) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.SetMany(c, l.next, items))
}

func (l *timed) DeleteMany(ctx context.Context, keys []string) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.DeleteMany(c, l.next, keys))
}

func (l *timed) Clear(ctx context.Context) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.Clear(c, l.next))
}

func (l *timed) Remove(ctx context.Context, key string) (bool, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	removed, err := hitbox.Remove(c, l.next, key)
	return removed, l.check(ctx, c, err)
}

func (l *timed) ClearPrefix(ctx context.Context, prefix string) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.ClearPrefix(c, l.next, prefix))
}

func (l *timed) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.SetTagged(c, l.next, key, e, tags...))
}

func (l *timed) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	ls, err := hitbox.TakeLease(c, l.next, key, tags)
	return ls, l.check(ctx, c, err)
}

func (l *timed) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, ls hitbox.Lease) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.SetLeased(c, l.next, key, e, tags, ls))
}

func (l *timed) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	c, cancel := l.bound(ctx)
	defer cancel()
	e, tags, err := hitbox.GetTagged(c, l.next, key)
	return e, tags, l.check(ctx, c, err)
}

func (l *timed) InvalidateTags(ctx context.Context, tags ...string) error {
	c, cancel := l.bound(ctx)
	defer cancel()
	return l.check(ctx, c, hitbox.InvalidateTags(c, l.next, tags...))
}

func nop() {}

// bound returns ctx itself when its deadline is no later than d from now,
// which saves a timer per call for callers that already set one.
func (l *timed) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= l.d {
		return ctx, nop
	}
	return context.WithTimeout(ctx, l.d)
}

// check makes sure a failure caused by this layer's deadline says so.
func (l *timed) check(caller, bounded context.Context, err error) error {
	if err == nil || caller == bounded || caller.Err() != nil ||
		bounded.Err() == nil || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("hitbox/layer: timeout after %v: %w: %w", l.d, context.DeadlineExceeded, err)
}
