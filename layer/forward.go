package layer

import (
	"context"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
)

// forward is embedded by every layer: it passes through what the layer does
// not own (the label, Delete, Clear, InvalidateTags, TryLock, Lease, Close,
// Unwrap) so each layer
// file only spells out the operations its concern changes.
type forward struct {
	next hitbox.Backend
}

// Label returns the label of the wrapped backend: layers are not levels, so
// metrics and errors keep naming the store.
func (f forward) Label() string { return f.next.Label() }

// Unwrap returns the wrapped backend.
func (f forward) Unwrap() hitbox.Backend { return f.next }

// Delete removes key from the wrapped backend.
func (f forward) Delete(ctx context.Context, key string) error { return f.next.Delete(ctx, key) }

// DeleteMany removes keys from the wrapped backend, in one call when it can.
func (f forward) DeleteMany(ctx context.Context, keys []string) error {
	return hitbox.DeleteMany(ctx, f.next, keys)
}

// Remove removes key from the wrapped backend and says whether it held a
// live entry, in one call when it can.
func (f forward) Remove(ctx context.Context, key string) (bool, error) {
	return hitbox.Remove(ctx, f.next, key)
}

// Clear empties the wrapped backend when it is a Clearer.
func (f forward) Clear(ctx context.Context) error { return hitbox.Clear(ctx, f.next) }

// ClearPrefix removes the wrapped backend's keys under prefix when it is a
// PrefixClearer.
func (f forward) ClearPrefix(ctx context.Context, prefix string) error {
	return hitbox.ClearPrefix(ctx, f.next, prefix)
}

// InvalidateTags drops the wrapped backend's entries that carry one of
// tags when it is a hitbox.Tagger, and says hitbox.ErrNotSupported
// otherwise: a tag names a group of entries, whatever their values look
// like, so no value transform has anything to change in it.
func (f forward) InvalidateTags(ctx context.Context, tags ...string) error {
	return hitbox.InvalidateTags(ctx, f.next, tags...)
}

// Lease takes a lease on key from the wrapped backend when it is a
// hitbox.Leaser (the zero Lease otherwise): a lease holds no value, so a
// layer that keeps keys as they are has nothing to change in it. Each
// layer spells out SetLeased, which stores a value.
func (f forward) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	return hitbox.TakeLease(ctx, f.next, key, tags)
}

// TryLock takes a lock on the wrapped backend when it is a hitbox.Locker:
// a lock holds no value, so no layer has anything to change in it.
func (f forward) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	return hitbox.TryLock(ctx, f.next, key, ttl)
}

// Close releases the wrapped backend's resources when it is a Closer.
func (f forward) Close() error { return hitbox.Close(f.next) }

// fail names the operation and the store in err, as a store's own errors
// do, so a log tells which level of a pipeline held the bad bytes.
func (f forward) fail(op string, err error) error {
	return &hitbox.Error{Op: op, Backend: f.next.Label(), Err: err}
}

// corrupt returns an error wrapping hitbox.ErrCorrupt (and cause, when not
// nil) that names the layer which found the damage.
func corrupt(layer string, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cause == nil {
		return fmt.Errorf("hitbox/layer: %s: %w: %s", layer, hitbox.ErrCorrupt, msg)
	}
	return fmt.Errorf("hitbox/layer: %s: %w: %s: %w", layer, hitbox.ErrCorrupt, msg, cause)
}
