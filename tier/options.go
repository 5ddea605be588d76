package tier

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hitbox-go/hitbox"
)

// ReadPolicy says how Get consults the levels.
type ReadPolicy uint8

const (
	// ReadSequential asks L1, then L2 on a miss, and so on: the first hit
	// wins. It is the default and the cheapest: a hit in L1 costs one call.
	ReadSequential ReadPolicy = iota
	// ReadRace asks every level at once and the first hit wins, whichever
	// level it comes from; the others are cancelled or left to finish, as
	// Options.Losers says. It trades load on the lower levels for latency
	// when L1 is slow or often misses.
	ReadRace
	// ReadParallel asks every level at once, waits for all and returns the
	// freshest hit: a fresh entry beats a stale one, then the later
	// deadline wins (Stale, or Expire when there is no Stale), then the
	// upper level. An expired value never wins: backends never return one.
	ReadParallel
)

// String returns "sequential", "race" or "parallel".
func (p ReadPolicy) String() string {
	switch p {
	case ReadSequential:
		return "sequential"
	case ReadRace:
		return "race"
	case ReadParallel:
		return "parallel"
	}
	return "unknown"
}

// Losers says what a ReadRace does with the levels that did not win.
type Losers uint8

const (
	// LosersCancel cancels the losers' contexts as soon as a level wins. It is
	// the default.
	LosersCancel Losers = iota
	// LosersFinish lets the losers run to completion in the background, under a
	// context detached from the caller's with Options.TaskTimeout, counted
	// against the offload queue limit (when the queue is full they are
	// cancelled and counted as dropped). Use it for backends whose
	// connections do not survive a cancelled call.
	LosersFinish
)

// WritePolicy says how Set, SetMany, Delete and DeleteMany reach the levels.
type WritePolicy uint8

const (
	// WriteThrough writes every level in turn, the lowest (L2, L3) first
	// and L1 last, so no level ever holds a value that a level below it
	// lacks: when a level fails, the tier does not write the levels above
	// it, removes the key from them instead (so they do not keep serving
	// the value the caller meant to replace) and returns the error. A
	// reader that misses L1 meanwhile finds the new value below. It is the
	// default.
	WriteThrough WritePolicy = iota
	// WriteParallel writes every level at once and succeeds when the
	// levels named in Options.Required have; the failures of the others
	// are counted and logged. When a required level fails, the key is
	// removed from the levels above it, as with WriteThrough.
	WriteParallel
	// WriteBehind writes L1 before Set returns and the lower levels in the
	// background, on the offload pool (one pending write per key: a newer
	// Set replaces a write still queued). It is the fastest and the least
	// consistent: until the background write lands, another instance (or
	// this one after an L1 eviction) reads the old value below, and a write
	// dropped because the queue was full never reaches the lower levels.
	// Deletes are never deferred.
	WriteBehind
)

// String returns "write-through", "write-parallel" or "write-behind".
func (p WritePolicy) String() string {
	switch p {
	case WriteThrough:
		return "write-through"
	case WriteParallel:
		return "write-parallel"
	case WriteBehind:
		return "write-behind"
	}
	return "unknown"
}

// RefillMode says when a hit in a lower level is copied into the levels
// above it.
type RefillMode uint8

const (
	// RefillSync writes the upper levels before Get returns. It is the
	// default: the next read is an L1 hit for sure.
	RefillSync RefillMode = iota
	// RefillBackground queues the refill on the offload pool, so Get
	// returns as soon as the lower level has answered.
	RefillBackground
	// RefillOff never refills.
	RefillOff
)

// Overflow says what a tier does with a shared level whose journal of
// missed removals is full (Options.Journal): the removals it forgets
// would otherwise leave the level serving what they removed.
type Overflow uint8

const (
	// OverflowDisable stops reading the level, for the tier's lifetime:
	// reads go on to the levels below it, or miss, and writes and
	// removals still reach it, so other instances that read it see them.
	// It is the default: it keeps the promise that no read returns what
	// an acknowledged removal replaced, without the cost a clear of a
	// shared level puts on every instance that shares it; an operator who
	// prefers that cost, or staleness, chooses OverflowClear or
	// OverflowForget.
	OverflowDisable Overflow = iota
	// OverflowClear clears the level (hitbox.Clear) when it is reachable
	// again, before it answers a read: every instance loses what it
	// shares there, and reloads it.
	OverflowClear
	// OverflowForget drops the journal and reads the level again at once:
	// it may serve what the forgotten removals removed, until the entries
	// expire.
	OverflowForget
)

// String returns "disable", "clear" or "forget".
func (o Overflow) String() string {
	switch o {
	case OverflowDisable:
		return "disable"
	case OverflowClear:
		return "clear"
	case OverflowForget:
		return "forget"
	}
	return "unknown"
}

// Breaker tunes the circuit breaker every level has: after Failures
// consecutive failed calls the level is skipped (reads treat it as failed,
// writes fail on it at once) for CoolDown; then one call probes it, and a
// success closes the breaker while a failure opens it for another CoolDown.
// Misses, corrupt entries and calls the caller cancelled are not failures.
type Breaker struct {
	// Failures opens the breaker; 5 when zero. A negative value disables
	// the breaker.
	Failures int
	// CoolDown is how long an open breaker skips the level; 5s when zero.
	CoolDown time.Duration
}

// Options tune a Tier. The zero value is the default: sequential reads,
// write-through, synchronous refill of fresh hits, a breaker on every level,
// four background workers and no bus.
type Options struct {
	// Label names the tier in metrics, traces and errors, and is the first
	// element of the level paths that a hitbox.Answer reports; "tier" when empty.
	Label string

	// Read is the read policy; ReadSequential when zero.
	Read ReadPolicy
	// Losers says what ReadRace does with the levels that did not win.
	Losers Losers
	// Write is the write policy; WriteThrough when zero.
	Write WritePolicy
	// Required lists, by index (0 is L1), the levels that must succeed for
	// a WriteParallel write to succeed; every level when nil.
	Required []int

	// Refill says when a lower hit is copied into the levels above.
	Refill RefillMode
	// RefillStale also refills entries past their Stale deadline. By
	// default a stale hit is served but not copied up, so the refresh that
	// the layer above is about to make is not shadowed by old data.
	RefillStale bool
	// MaxTTL caps, per level (index 0 is L1), the lifetime of what the tier
	// writes there, by Set as well as by refill: an L1 capped at a minute
	// is at most a minute out of date even without a bus. Zero or missing
	// means no cap. A refill never gives an entry more than its remaining
	// lifetime, whatever the cap.
	MaxTTL []time.Duration

	// Breaker tunes the per-level circuit breaker.
	Breaker Breaker

	// Workers is the number of goroutines of the offload pool, which runs
	// all background work (background refills, write-behind, finishing
	// race losers). They start with the first background task and stop in
	// Close. 4 when zero.
	Workers int
	// Queue is how many background tasks may wait; more are dropped and
	// counted (Stats.Offload.Dropped). 1024 when zero.
	Queue int
	// TaskTimeout bounds each background task and each bus invalidation.
	// Their contexts are the caller's, detached (context.WithoutCancel),
	// with this timeout. 5s when zero.
	TaskTimeout time.Duration
	// DrainTimeout is how long Close lets queued and running background
	// work finish before it cancels it. 5s when zero; a negative value
	// cancels at once.
	DrainTimeout time.Duration

	// Bus carries invalidations between instances: the tier subscribes in
	// New and unsubscribes in Close (it never closes the bus itself). When
	// it is also a hitbox.Publisher the tier publishes its own writes on it.
	Bus hitbox.Bus
	// ID identifies this tier on the bus, so it can ignore its own
	// messages; a random one when empty.
	ID string
	// Local is how many of the upper levels are private to this instance
	// (L1 alone, by default): the bus clears those and publishes changes to
	// the rest. 1 when zero.
	Local int
	// OwnWrites, when positive, lets the tier ignore a bus invalidation
	// that carries no Origin (server-assisted tracking) for a key it wrote
	// itself within that window: the first such invalidation after own
	// writes of a key uses up all of them. Without it such a bus makes each
	// Set evict the L1 copy it has just written (a later read refills it:
	// wasteful, not wrong); Redis's NOLOOP cannot prevent that, since it
	// applies to the connection that tracks, and the writes go through the
	// client's pool. The cost of turning it on: when another instance
	// writes the same key within the window and the server coalesces both
	// notifications into one, this instance keeps its own value in L1
	// until the entry expires or MaxTTL ends it, so set an L1 MaxTTL with
	// it. Zero by default.
	OwnWrites time.Duration

	// Journal bounds, per level, the removals (keys of Delete, DeleteMany
	// and Remove, tags of InvalidateTags, prefixes of ClearPrefix) that
	// could not reach the level and are kept to be replayed on it before
	// it is used again: see JournalOverflow. 10000 when zero.
	Journal int
	// JournalOverflow says what happens to a shared level whose journal
	// overflows; a local level is always cleared instead. The default,
	// OverflowDisable, is the one that keeps the consistency promise
	// without touching what other instances share: see Overflow.
	JournalOverflow Overflow

	// Now is the tier's clock for refill lifetimes, staleness, the breaker
	// and OwnWrites; time.Now when nil. Tests pass a fake clock.
	Now func() time.Time
	// Logger receives breaker transitions, bus gaps and background
	// failures; nothing is logged when nil.
	Logger *slog.Logger
}

const (
	defaultLabel    = "tier"
	defaultFailures = 5
	defaultCoolDown = 5 * time.Second
	defaultWorkers  = 4
	defaultQueue    = 1024
	defaultTimeout  = 5 * time.Second
	defaultJournal  = 10000
)

// Validate reports the first option that cannot work for a tier of levels
// levels, with the message NewWith panics with:
// "hitbox/tier: Options.<field>: <why>". A program that reads options from
// configuration calls it first to get an error rather than a panic. Zero
// values are never invalid: they mean the defaults.
func (o Options) Validate(levels int) error {
	switch {
	case levels <= 0:
		return invalid("levels", "a tier needs at least one level")
	case o.Read > ReadParallel:
		return invalid("Options.Read", "unknown read policy %d", o.Read)
	case o.Losers > LosersFinish:
		return invalid("Options.Losers", "unknown losers mode %d", o.Losers)
	case o.Write > WriteBehind:
		return invalid("Options.Write", "unknown write policy %d", o.Write)
	case o.Refill > RefillOff:
		return invalid("Options.Refill", "unknown refill mode %d", o.Refill)
	case len(o.MaxTTL) > levels:
		return invalid("Options.MaxTTL", "%d entries for %d levels", len(o.MaxTTL), levels)
	case o.Local < 0 || o.Local > levels:
		return invalid("Options.Local", "%d local levels of %d", o.Local, levels)
	case o.Breaker.CoolDown < 0:
		return invalid("Options.Breaker.CoolDown", "negative (%v)", o.Breaker.CoolDown)
	case o.Workers < 0:
		return invalid("Options.Workers", "negative (%d)", o.Workers)
	case o.Queue < 0:
		return invalid("Options.Queue", "negative (%d)", o.Queue)
	case o.TaskTimeout < 0:
		return invalid("Options.TaskTimeout", "negative (%v)", o.TaskTimeout)
	case o.Journal < 0:
		return invalid("Options.Journal", "negative (%d)", o.Journal)
	case o.JournalOverflow > OverflowForget:
		return invalid("Options.JournalOverflow", "unknown overflow policy %d", o.JournalOverflow)
	case o.OwnWrites < 0:
		return invalid("Options.OwnWrites", "negative (%v)", o.OwnWrites)
	}
	for i, d := range o.MaxTTL {
		if d < 0 {
			return invalid("Options.MaxTTL["+strconv.Itoa(i)+"]", "negative (%v)", d)
		}
	}
	for i, j := range o.Required {
		if j < 0 || j >= levels {
			return invalid("Options.Required["+strconv.Itoa(i)+"]", "level %d of %d does not exist", j, levels)
		}
	}
	return nil
}

// invalid is the error of an option that cannot work.
func invalid(field, why string, args ...any) error {
	return errors.New("hitbox/tier: " + field + ": " + fmt.Sprintf(why, args...))
}
