package faulty

import (
	"context"
	"time"

	"github.com/hitbox-go/hitbox"
)

// TryLock forwards through hitbox.TryLock, so a layer under test that
// forwards the lock ability reaches the inner backend's (or its
// ErrNotSupported).
func (b *Backend) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	if err := b.enter(ctx, hitbox.OpLock); err != nil {
		return nil, err
	}
	return hitbox.TryLock(ctx, b.inner, key, ttl)
}
