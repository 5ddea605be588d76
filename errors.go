package hitbox

import (
	"errors"
	"fmt"
)

// Sentinel errors. Backends and layers wrap them with %w and callers test
// them with errors.Is; never compare error strings.
var (
	// ErrMiss is returned by Get when the key holds no live entry. A miss is
	// an answer, not a failure: layers pass it up untouched and metrics
	// count it apart from errors.
	ErrMiss = errors.New("hitbox: miss")

	// ErrCorrupt is returned when bytes read back cannot be decoded: damaged,
	// truncated or written by something else. Callers above treat it as a
	// miss (and count it); the layer that detects it removes the entry.
	ErrCorrupt = errors.New("hitbox: corrupt entry")

	// ErrTooLarge is returned when a value exceeds a configured size limit.
	// The returned error is a *SizeError that names the size and the limit.
	ErrTooLarge = errors.New("hitbox: value too large")

	// ErrNotSupported is returned by the package helpers (Clear, for one)
	// when the backend lacks an optional ability and no fallback exists.
	ErrNotSupported = errors.New("hitbox: not supported")

	// ErrClosed is returned by every operation on a backend after Close.
	ErrClosed = errors.New("hitbox: closed")

	// ErrUnavailable is returned when a backend cannot be reached: a
	// refused or dropped connection, an I/O timeout, a failed cluster
	// redirect. It tells an outage apart from a miss.
	ErrUnavailable = errors.New("hitbox: backend unavailable")

	// ErrInvalidKey is returned for an empty key.
	ErrInvalidKey = errors.New("hitbox: invalid key")

	// ErrLocked is returned by TryLock when another holder has the lock,
	// and by Lock.Extend when the lock is no longer held.
	ErrLocked = errors.New("hitbox: locked")
)

// SizeError reports a value refused for its size. errors.Is(err,
// ErrTooLarge) holds for it.
type SizeError struct {
	Size  int // the size of the refused value, in bytes
	Limit int // the configured limit, in bytes
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("hitbox: value of %d bytes exceeds the limit of %d bytes", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) hold.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// Error is the error a backend returns for a failed operation: it names the
// operation and the backend so logs tell which level of a pipeline failed,
// and wraps the cause so errors.Is still sees the sentinel.
type Error struct {
	Op      string // one of the Op constants, such as OpGet
	Backend string // the backend's Label
	Err     error  // the cause, often wrapping a sentinel
}

func (e *Error) Error() string { return e.Backend + " " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CheckKey returns an error wrapping ErrInvalidKey when key is empty.
// Stores call it first in every operation.
func CheckKey(key string) error {
	if key == "" {
		return ErrInvalidKey
	}
	return nil
}

// Operation names, the Op of every *Error the packages of this module
// return and the values of the otel layers' operation attribute: one
// spelling each, so logs and dashboards can be matched on them.
const (
	OpGet            = "get"
	OpSet            = "set"
	OpDelete         = "delete"
	OpGetMany        = "getmany"
	OpSetMany        = "setmany"
	OpDeleteMany     = "deletemany"
	OpClear          = "clear"
	OpClearPrefix    = "clearprefix"    // a PrefixClearer removing one namespace
	OpRemove         = "remove"         // a Remover: a Delete that says whether it deleted
	OpInvalidateTags = "invalidatetags" // a Tagger dropping the entries that carry tags
	OpClose          = "close"
	OpPublish        = "publish"   // a Publisher announcing an Invalidation
	OpSubscribe      = "subscribe" // a Bus connecting, or waiting until it is ready
	OpLock           = "lock"      // a Locker taking a lock
	OpUnlock         = "unlock"    // a Lock released
	OpExtend         = "extend"    // a Lock extended
	OpLease          = "lease"     // a Leaser handing out a Lease
)
