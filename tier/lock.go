package tier

import (
	"context"
	"time"

	"github.com/hitbox-go/hitbox"
)

// TryLock takes the lock on the tier's lowest shared level (the last
// level, when it is not among Options.Local's private ones), through that
// level's own lock ability. A lock serves processes that share a store, so
// it must live where every instance's tier meets: the lowest level is the
// one all of them share most widely. A tier with no shared level, or whose
// lowest one cannot lock, returns an error wrapping hitbox.ErrNotSupported,
// and so the Cache loads without a lock; an open breaker on that level
// fails with ErrOpen.
func (t *Tier) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	if t.closed.Load() {
		return nil, t.fail(hitbox.OpLock, hitbox.ErrClosed)
	}
	last := len(t.levels) - 1
	if last < t.local {
		return nil, t.fail(hitbox.OpLock, hitbox.ErrNotSupported)
	}
	lv := &t.levels[last]
	if !t.allow(lv) {
		return nil, openErr(hitbox.OpLock, lv)
	}
	return hitbox.TryLock(ctx, lv.b, key, ttl)
}
