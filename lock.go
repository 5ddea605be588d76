package hitbox

import (
	"context"
	"time"
)

// Locker is a Backend that can hold short-lived locks shared by every
// client of the same store, so processes that share it can agree on which
// one loads a missing key (Cache.GetOrLoad with Options.LockTTL).
//
// A lock is named by a key of the backend's key space but lives apart from
// the entry stored under that key: taking, extending or releasing it never
// changes what Get returns. Every lock has a lifetime, so a holder that dies
// blocks the others for at most that long.
type Locker interface {
	// TryLock takes the lock named key for ttl if nobody holds it, and
	// returns at once either way: an error wrapping ErrLocked when another
	// holder has it. ttl must be positive.
	TryLock(ctx context.Context, key string, ttl time.Duration) (Lock, error)
}

// Lock is a lock taken with TryLock. Only its holder can extend or release
// it: a lock that expired and was taken by someone else is left alone.
type Lock interface {
	// Extend gives the lock ttl more to live, counted from now. It fails
	// with an error wrapping ErrLocked when the lock is no longer held (it
	// expired, and maybe someone else took it).
	Extend(ctx context.Context, ttl time.Duration) error
	// Unlock releases the lock if it is still held. Releasing a lock that
	// expired is not an error. It is idempotent.
	Unlock(ctx context.Context) error
}

// TryLock takes the lock named key on b when b is a Locker, and returns an
// error wrapping ErrNotSupported otherwise: a lock that only one process
// sees protects nothing across processes, so there is no fallback.
func TryLock(ctx context.Context, b Backend, key string, ttl time.Duration) (Lock, error) {
	if l, ok := b.(Locker); ok {
		return l.TryLock(ctx, key, ttl)
	}
	return nil, &Error{Op: OpLock, Backend: b.Label(), Err: ErrNotSupported}
}
