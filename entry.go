package hitbox

import "time"

// Entry is what travels through every layer: a value as bytes and its two
// deadlines. A zero deadline means "none".
//
// Between Stale and Expire an entry may still be served while it is
// refreshed (stale-while-revalidate) or when its source fails
// (stale-if-error). After Expire it is gone.
type Entry struct {
	// Value is the payload. Its meaning belongs to the layer above; layers
	// below treat it as opaque bytes. A backend must not keep Value after
	// Set returns unless it copied it, and callers must not modify a Value
	// returned by Get.
	Value []byte
	// Expire is the hard deadline. The zero time means the entry never
	// expires.
	Expire time.Time
	// Stale is the soft deadline. The zero time means the entry is fresh
	// until Expire.
	Stale time.Time
}

// State says where an entry stands at a given instant.
type State uint8

// The states of an entry, in the order an entry passes through them.
const (
	Fresh   State = iota // before Stale (or Expire, when Stale is zero)
	Stale                // between Stale and Expire: servable while refreshed
	Expired              // at or after Expire: never served
)

// String returns "fresh", "stale" or "expired".
func (s State) String() string {
	switch s {
	case Fresh:
		return "fresh"
	case Stale:
		return "stale"
	case Expired:
		return "expired"
	}
	return "unknown"
}

// StateAt reports whether the entry is fresh, stale or expired at now.
func (e Entry) StateAt(now time.Time) State {
	if !e.Expire.IsZero() && !now.Before(e.Expire) {
		return Expired
	}
	if !e.Stale.IsZero() && !now.Before(e.Stale) {
		return Stale
	}
	return Fresh
}

// TTL returns the time left until Expire at now: 0 once the entry has
// expired, and -1 when it has no hard deadline. Stores use it to hand the
// remaining lifetime to engines that count in durations.
func (e Entry) TTL(now time.Time) time.Duration {
	if e.Expire.IsZero() {
		return -1
	}
	if d := e.Expire.Sub(now); d > 0 {
		return d
	}
	return 0
}

// CapTTL returns e with its lifetime at now cut to at most maxTTL: an Expire
// that is zero or later than now+maxTTL becomes now+maxTTL, and a Stale after the
// new Expire becomes it too (an entry is never stale past its end). It never
// lengthens a lifetime, and a maxTTL of zero or less returns e as it is. It is
// the rule of every MaxTTL option: stores and tiers apply it on Set, and a
// third-party store with such an option can too.
func (e Entry) CapTTL(now time.Time, maxTTL time.Duration) Entry {
	if maxTTL <= 0 {
		return e
	}
	if limit := now.Add(maxTTL); e.Expire.IsZero() || e.Expire.After(limit) {
		e.Expire = limit
	}
	if e.Stale.After(e.Expire) {
		e.Stale = e.Expire
	}
	return e
}
