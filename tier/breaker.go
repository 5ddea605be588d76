package tier

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
)

// ErrOpen is returned for a level skipped because its circuit breaker is
// open. It wraps hitbox.ErrUnavailable, so errors.Is(err,
// hitbox.ErrUnavailable) holds for it too.
var ErrOpen = fmt.Errorf("tier: circuit open: %w", hitbox.ErrUnavailable)

// Breaker states.
const (
	closed  uint32 = iota
	open           // skipping the level until the cool-down ends
	probing        // one call is testing the level
)

// breaker skips a level that keeps failing. The closed state costs one
// atomic load per call and no write while calls succeed.
type breaker struct {
	threshold int32 // consecutive failures that open it; 0 disables it
	coolDown  time.Duration

	state    atomic.Uint32
	failures atomic.Int32
	until    atomic.Int64 // unix nanoseconds at which an open breaker may probe
	opens    atomic.Uint64
}

func (b *breaker) init(o Breaker) {
	switch {
	case o.Failures < 0:
		b.threshold = 0
	case o.Failures == 0:
		b.threshold = defaultFailures
	default:
		b.threshold = int32(min(o.Failures, 1<<30))
	}
	b.coolDown = o.CoolDown
	if b.coolDown <= 0 {
		b.coolDown = defaultCoolDown
	}
}

// allow reports whether a call may go to the level. Once the cool-down has
// passed, it lets exactly one call through as a probe.
func (b *breaker) allow(now func() time.Time) bool {
	switch b.state.Load() {
	case closed:
		return true
	case open:
		if now().UnixNano() < b.until.Load() {
			return false
		}
		return b.state.CompareAndSwap(open, probing)
	}
	return false
}

// success records a call the level answered (a miss included). It reports
// whether that closed an open breaker.
func (b *breaker) success() bool {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if b.state.Load() != closed {
		b.state.Store(closed)
		return true
	}
	return false
}

// failure records a failed call. It reports whether that opened the
// breaker.
func (b *breaker) failure(now func() time.Time) bool {
	if b.threshold == 0 {
		return false
	}
	n := b.failures.Add(1)
	switch b.state.Load() {
	case probing:
		b.until.Store(now().Add(b.coolDown).UnixNano())
		b.state.Store(open)
		b.opens.Add(1)
		return true
	case closed:
		if n < b.threshold {
			return false
		}
		b.until.Store(now().Add(b.coolDown).UnixNano())
		if b.state.CompareAndSwap(closed, open) {
			b.opens.Add(1)
			return true
		}
	}
	return false
}

// abort records a call that gave no verdict (the caller gave up): a probe
// hands its turn to the next call.
func (b *breaker) abort() { b.state.CompareAndSwap(probing, open) }

func (b *breaker) isOpen() bool { return b.state.Load() != closed }

// suspect reports whether the level's last call failed and no call has
// succeeded since, whether or not that opened the breaker. It is always
// false when the breaker is disabled, which counts no failures.
func (b *breaker) suspect() bool { return b.failures.Load() > 0 }
