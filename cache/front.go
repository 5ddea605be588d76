package cache

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/maypok86/otter/v2"
)

// Front configures the decoded-object front of a Cache[T]: a bounded
// in-memory map of decoded values, in front of the pipeline, that answers
// a fresh hit without a trip down the pipeline and without decoding. Set
// it as Options.Front:
//
//	users := cache.New[User](store, cache.Options{
//		TTL:   time.Minute,
//		Front: cache.Front[User]{MaxEntries: 10_000, Bus: bus},
//	})
//
// The front keeps a value only while it is fresh, by the deadlines the
// pipeline's entry has: a stale or expired value is read from the
// pipeline, as without a front. A hit judges freshness without reading the
// system clock (which would cost it as much as the rest of the hit): it
// reads a clock that a ticker shared by every front of the process
// updates once a millisecond, so a front may answer a value up to a
// millisecond after its freshness ended, and later only while the Go
// runtime runs that ticker late (every P busy with code that does not
// yield, until the scheduler preempts it). A cache given its own clock
// (Options.Now) reads that one on every hit instead. The ticker runs while
// any front is open: Close stops it with the last.
//
// The front stays coherent with the pipeline: Set
// and Delete through the cache update or drop the key, and so does every
// invalidation arriving on Bus (another instance's write, a Redis tracking
// message; a gap in delivery empties the front). From the moment the bus
// says delivery may have stopped (hitbox.Invalidation.Down, which a bus
// also sends at Subscribe until it is connected) until it says All, the
// front answers no read and keeps nothing: reads go to the pipeline, and
// get the front's copy, as a stale value, only when the pipeline fails
// (GetOrLoad tries its loader first). Tagged entries are
// dropped by the cache's InvalidateTags and by an Invalidation with Tags
// on Bus; a purge costs the front no scan, as entries note their tags'
// generations and a hit of a tagged entry checks them (an untagged hit
// checks nothing more), whether the entry came from a single read or from
// GetOrLoadMany's batch read. Without a Bus, a write by another instance
// (or straight to the pipeline) is seen once the front's copy stops being
// fresh: use a Bus, or a short TTL, when several instances share the
// pipeline.
//
// Values are shared: every caller that hits the front gets the same T, and
// the value given to Set is kept as it is. For types with references
// (pointers, slices, maps) callers must treat them as read-only, or set
// Copy.
//
// Its memory is, per entry, the key, the value (T itself, plus what it
// points to) and the front's bookkeeping, plus for a tagged entry a record
// of its tags and their generations; the cache's tag generations take a
// fixed 8 KiB. BenchmarkFrontMemory in bench_test.go measures the
// bookkeeping of an untagged entry. It starts one goroutine, which runs the
// eviction policy's upkeep off the hit path, and the first open front
// starts the clock's ticker: close the Cache to stop them.
type Front[T any] struct {
	// MaxEntries bounds the front by number of entries. Exactly one of
	// MaxEntries and MaxCost is set.
	MaxEntries int
	// MaxCost bounds the front by the sum of Cost over its entries.
	MaxCost uint64
	// Cost weighs an entry for MaxCost, in whatever unit MaxCost counts
	// (often bytes). Required with MaxCost, and must not call the cache.
	Cost func(key string, v T) uint32
	// Copy, when set, is applied to every value entering the front (from
	// Set or a load) and to every value leaving it for a caller, so
	// callers may modify what they get. Default: values are shared.
	Copy func(v T) T
	// Bus delivers invalidations from other instances. The front
	// subscribes in New and unsubscribes in Close; it never closes the
	// bus. Its own writes may come back on it (Redis tracking reports
	// every writer) and drop the key once; the next read refills it.
	Bus hitbox.Bus
}

// FrontOptions is what Options.Front holds: a Front[T] (or *Front[T]) of
// the cache's T. A nil *Front[T] is no front.
type FrontOptions interface {
	// validate names the first field that cannot work, and why.
	validate() (field, why string)
}

// absent reports whether a *Front[T] is nil: a nil front is no front.
func (f *Front[T]) absent() bool { return f == nil }

// frontAbsent reports whether o is a nil *Front[T], whose value methods
// cannot be called.
func frontAbsent(o FrontOptions) bool {
	p, ok := o.(interface{ absent() bool })
	return ok && p.absent()
}

func (f Front[T]) validate() (field, why string) {
	switch {
	case f.MaxEntries < 0:
		return "MaxEntries", fmt.Sprintf("%d is negative", f.MaxEntries)
	case f.MaxEntries > 0 && f.MaxCost > 0:
		return "MaxEntries", "set with MaxCost: choose one bound"
	case f.MaxEntries == 0 && f.MaxCost == 0:
		return "MaxEntries", "neither it nor MaxCost is set: the front must be bounded"
	case f.MaxCost > 0 && f.Cost == nil:
		return "Cost", "nil with MaxCost set"
	case f.MaxEntries > 0 && f.Cost != nil:
		return "Cost", "set without MaxCost"
	}
	return "", ""
}

// frontEntry is one decoded value (or a cached "not found") and the
// deadlines of the entry it came from, in Unix nanoseconds (0: none).
type frontEntry[T any] struct {
	v      T
	until  int64 // end of freshness: the entry's Stale, else its Expire
	expire int64
	x      *frontExtra // nil for an untagged value, what most entries are
}

// frontExtra is what few entries need, apart so the common entry is a word
// smaller (16 bytes, with an int value, in Go's size classes).
type frontExtra struct {
	neg  bool      // a cached "not found"
	tags *tagMarks // nil: no tags
}

// notFoundExtra is the extra of every untagged "not found".
var notFoundExtra = &frontExtra{neg: true}

// neg reports whether e is a cached "not found".
func (e *frontEntry[T]) neg() bool { return e.x != nil && e.x.neg }

// marks returns what e noted of its tags, or nil when it has none.
func (e *frontEntry[T]) marks() *tagMarks {
	if e.x == nil {
		return nil
	}
	return e.x.tags
}

// setMarks gives e tags; e's extra may be shared, so it gets its own.
func (e *frontEntry[T]) setMarks(m *tagMarks) { e.x = &frontExtra{neg: e.neg(), tags: m} }

// tagStripes is how many tag generations a Cache keeps; tags share them
// by hash, and a shared generation only drops a front entry needlessly.
const tagStripes = 1024

// tagTable is how a Cache knows, without asking the pipeline, that a tag
// was purged since it noted the tag: every purge this instance makes or
// hears of on the front's bus counts one in purges, then advances the
// generation of each of its tags. Memory is fixed (8 KiB), whatever the
// number of tags; the price of sharing generations is that a purge of one
// tag also drops the front entries carrying another tag of the same
// stripe (one in tagStripes per tag), which then read the pipeline again:
// an error on the side of a miss, never of serving a purged entry.
//
// A load's tagged store holds mu shared from its check of its marks to the
// end of its write, and a purge this instance makes counts itself under
// mu (purgeWaiting), so the purge either stops the store or waits for it
// and reaches the pipeline after it. A purge heard on the bus counts
// without it (purge).
type tagTable struct {
	seed   maphash.Seed
	mu     sync.RWMutex
	purges atomic.Uint64
	gens   [tagStripes]atomic.Uint64
}

// tagMarks is what an entry noted of the table: the generations of its
// tags.
type tagMarks struct {
	gens []tagGen
}

type tagGen struct {
	i   uint32
	gen uint64
}

// purge records a purge of tags: the count first, then the generations,
// so a reader that sees the old count read the old generations or sees
// the purge in them (see fill).
func (t *tagTable) purge(tags []string) {
	t.purges.Add(1)
	for _, tag := range tags {
		t.gens[maphash.String(t.seed, tag)%tagStripes].Add(1)
	}
}

// purgeWaiting is purge for a purge this instance is about to make: it
// waits for the tagged stores of loads under way to end (see tagTable).
func (t *tagTable) purgeWaiting(tags []string) {
	t.mu.Lock()
	t.purge(tags)
	t.mu.Unlock()
}

// purgeAll records a purge of every tag.
func (t *tagTable) purgeAll() {
	t.purges.Add(1)
	for i := range t.gens {
		t.gens[i].Add(1)
	}
}

// mark notes the current generations of tags.
func (t *tagTable) mark(tags []string) *tagMarks {
	m := &tagMarks{gens: make([]tagGen, len(tags))}
	for i, tag := range tags {
		s := uint32(maphash.String(t.seed, tag) % tagStripes)
		m.gens[i] = tagGen{s, t.gens[s].Load()}
	}
	return m
}

// current reports whether none of the tags m noted was purged since.
func (t *tagTable) current(m *tagMarks) bool {
	for _, g := range m.gens {
		if t.gens[g.i].Load() != g.gen {
			return false
		}
	}
	return true
}

// freshUntil returns when e stops being fresh, in Unix nanoseconds, or 0.
func freshUntil(e hitbox.Entry) int64 {
	if !e.Stale.IsZero() {
		return e.Stale.UnixNano()
	}
	return unixNano(e.Expire)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// stripes is how many write counters the front keeps; keys share them by
// hash, and a shared counter only makes a fill give up needlessly.
const stripes = 1024

// front is the decoded-object store of a Cache.
//
// Coherence rests on write counters. Every change of a key (a write
// through the cache, an invalidation from the bus) increments the key's
// counter, and a change of every key (a gap) the epoch, after the change
// reached the pipeline and before the front drops its copy. A reader
// notes the counters (a stamp) before it reads the pipeline, and fills
// the front only if they have not moved: otherwise what it read may be
// older than the change. A writer notes them before its write and keeps
// its own value only if its own increment is the only one since; if
// another write crossed it, it drops the key, since which of the two the
// pipeline kept is unknown. Each check and fill is atomic in otter's
// Compute, so a drop can never be overtaken by a fill it should have
// stopped.
type front[T any] struct {
	m       *otter.Cache[string, *frontEntry[T]] // by pointer: small nodes, whatever T's size
	tags    *tagTable                            // the Cache's
	changes *keyChanges                          // the Cache's, told of every invalidation
	reads   *sharedReads                         // the Cache's, told of every invalidation
	copy    func(T) T
	precise func() time.Time // Options.Now when set; nil: the coarse clock
	// common: no Copy and no precise clock, so Get may answer a hit on
	// its own (see Cache.Get).
	common bool
	// state is frontClosed and frontDown: a hit loads it alone, and
	// answers only when it is 0. It sits with the fields above, which
	// no hit writes, away from mu, which otter's maintenance locks: a
	// write to its cache line would cost every hit on another core a
	// miss.
	state atomic.Uint32
	seed  maphash.Seed
	epoch atomic.Uint64
	gens  [stripes]atomic.Uint64
	stop  func()

	// otter's tasks and the worker that runs them, until close.
	tasks   chan func()
	worker  sync.WaitGroup
	mu      sync.RWMutex // guards stopped against sends on tasks
	stopped bool
}

// stamp is the counters of one key at an instant, and the tag table's
// purge count.
type stamp struct{ epoch, gen, purges uint64 }

// The bits of front.state.
const (
	// frontClosed: Close emptied the front for good.
	frontClosed uint32 = 1 << iota
	// frontDown: the bus said delivery may have stopped (Invalidation.Down)
	// and has not yet said All: the front answers no read and keeps
	// nothing, but keeps what it holds for stale-if-error (peek).
	frontDown
)

// newFront returns the front o configures. now is the cache's own clock
// (Options.Now) when it has one, which hits then read; nil, the hits read
// the coarse clock.
func newFront[T any](o Front[T], tags *tagTable, changes *keyChanges, reads *sharedReads, now func() time.Time) *front[T] {
	f := &front[T]{tags: tags, changes: changes, reads: reads, copy: o.Copy, precise: now, seed: maphash.MakeSeed(),
		common: o.Copy == nil && now == nil}
	if now == nil {
		clock.acquire()
	}
	f.tasks = make(chan func(), 64)
	f.worker.Add(1)
	go f.work()
	oo := &otter.Options[string, *frontEntry[T]]{
		MaximumSize: o.MaxEntries,
		// otter's maintenance runs on the front's one worker, so hits do
		// not pay for it (inline it triples a hit's cost), and Close can
		// stop it. Deadlines are checked on read against the cache's
		// clock, not by otter, which so starts no goroutine of its own.
		Executor: f.execute,
	}
	if o.MaxCost > 0 {
		cost := o.Cost
		oo.MaximumWeight = o.MaxCost
		oo.Weigher = func(key string, e *frontEntry[T]) uint32 {
			if e.neg() {
				return 1
			}
			return cost(key, e.v)
		}
	}
	f.m = otter.Must(oo)
	if o.Bus != nil {
		f.stop = o.Bus.Subscribe(f.invalidate)
	}
	return f
}

// execute runs an otter task on the worker, or on the calling goroutine
// when the worker is busy (otter requires that it never waits) or gone.
func (f *front[T]) execute(fn func()) {
	f.mu.RLock()
	if !f.stopped {
		select {
		case f.tasks <- fn:
			f.mu.RUnlock()
			return
		default:
		}
	}
	f.mu.RUnlock()
	fn()
}

func (f *front[T]) work() {
	defer f.worker.Done()
	for fn := range f.tasks {
		fn()
	}
}

// hit returns the front's entry for key when it is fresh, with the
// instant its freshness was judged at, in Unix nanoseconds (0 for an entry
// without deadlines, which needs no clock). It finds nothing when the
// front cannot be trusted now (its bus is down, or it is closed), nor for
// an entry one of whose tags was purged since it was kept (that entry is
// dropped).
func (f *front[T]) hit(key string) (e *frontEntry[T], now int64, ok bool) {
	if f.state.Load() != 0 {
		return nil, 0, false
	}
	e, ok = f.m.GetIfPresent(key)
	return f.judge(key, e, ok)
}

// judge is hit past its lookup, which found e (ok) under key.
func (f *front[T]) judge(key string, e *frontEntry[T], ok bool) (*frontEntry[T], int64, bool) {
	if !ok {
		return nil, 0, false
	}
	if e.x != nil && e.x.tags != nil && !f.tags.current(e.x.tags) {
		f.dropPurged(key, e)
		return nil, 0, false
	}
	if e.until == 0 {
		return e, 0, true
	}
	now := f.now()
	return e, now, now < e.until
}

// dropPurged drops e, key's entry, one of whose tags was purged since it
// was kept, unless it was already replaced.
func (f *front[T]) dropPurged(key string, e *frontEntry[T]) {
	f.m.Compute(key, func(old *frontEntry[T], found bool) (*frontEntry[T], otter.ComputeOp) {
		if found && old == e {
			return old, otter.InvalidateOp
		}
		return old, otter.CancelOp // already replaced
	})
}

// now is the time hits judge freshness by, in Unix nanoseconds: the
// coarse clock's, unless the cache has a clock of its own.
func (f *front[T]) now() int64 {
	if f.precise == nil {
		return clock.now.Load()
	}
	return f.precise().UnixNano()
}

// down reports whether the front's bus is down (see frontDown).
func (f *front[T]) down() bool { return f.state.Load()&frontDown != 0 }

// peek returns what the front holds for key while its bus is down, for a
// read whose pipeline failed (stale-if-error): nothing once the front is
// closed, or for an entry one of whose tags was purged since it was kept.
func (f *front[T]) peek(key string) (*frontEntry[T], bool) {
	if f.state.Load()&frontClosed != 0 {
		return nil, false
	}
	e, ok := f.m.GetIfPresent(key)
	if !ok || (e.x != nil && e.x.tags != nil && !f.tags.current(e.x.tags)) {
		return nil, false
	}
	return e, true
}

// in and out apply Copy to values entering and leaving the front.
func (f *front[T]) in(v T) T {
	if f.copy != nil {
		return f.copy(v)
	}
	return v
}

func (f *front[T]) out(v T) T {
	if f.copy != nil {
		return f.copy(v)
	}
	return v
}

func (f *front[T]) gen(key string) *atomic.Uint64 {
	return &f.gens[maphash.String(f.seed, key)%stripes]
}

func (f *front[T]) stamp(key string) stamp {
	return stamp{f.epoch.Load(), f.gen(key).Load(), f.tags.purges.Load()}
}

// fill keeps e, read from the pipeline after st was taken with tags,
// unless the key changed since.
//
// A tagged fill is also given up when any tag was purged since st: the
// entry was read before, so it may be what the purge removed. Otherwise
// the entry notes its tags' generations, read before the purge count is
// checked again: a purge counts first (tagTable.purge), so if the count
// still stands, the generations read are those of before any purge that
// follows, and such a purge drops the entry on its next hit.
func (f *front[T]) fill(key string, st stamp, e *frontEntry[T], tags []string) {
	if f.state.Load() != 0 {
		return // closed, or down: keep nothing (a Down crossing this is in the epoch)
	}
	g := f.gen(key)
	f.m.Compute(key, func(old *frontEntry[T], found bool) (*frontEntry[T], otter.ComputeOp) {
		if f.epoch.Load() != st.epoch || g.Load() != st.gen {
			return old, otter.CancelOp
		}
		if len(tags) == 0 {
			return e, otter.WriteOp
		}
		e.setMarks(f.tags.mark(tags))
		if f.tags.purges.Load() != st.purges {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// wrote records a write of key to the pipeline (st taken before it): the
// front keeps e when no other change of key crossed the write, and drops
// the key otherwise. A tagged e carries the generations its tags had
// before the write (before the load, for a loaded value), and is dropped
// too when one of them was purged since.
func (f *front[T]) wrote(key string, st stamp, e *frontEntry[T]) {
	g := f.gen(key)
	mine := g.Add(1)
	switch s := f.state.Load(); {
	case s&frontClosed != 0:
		return
	case s != 0:
		f.m.Invalidate(key) // down: keep nothing (a Down crossing this is in the epoch)
		return
	}
	f.m.Compute(key, func(old *frontEntry[T], found bool) (*frontEntry[T], otter.ComputeOp) {
		if f.epoch.Load() != st.epoch || mine != st.gen+1 || g.Load() != mine ||
			(e.marks() != nil && !f.tags.current(e.marks())) {
			return old, otter.InvalidateOp
		}
		return e, otter.WriteOp
	})
}

// drop forgets key after it changed in the pipeline.
func (f *front[T]) drop(key string) {
	f.gen(key).Add(1)
	f.m.Invalidate(key)
}

// invalidate is the bus subscription. Purged tags advance the Cache's
// tag table: front entries carrying them are dropped on their next hit,
// and loads of them in flight store nothing; so do loads of changed keys.
//
// From a Down message until the next All, the front answers no read and
// keeps nothing (see frontDown); it keeps what it holds, which a read
// whose pipeline fails may still get (peek), until the All clears it.
func (f *front[T]) invalidate(inv hitbox.Invalidation) {
	if inv.Down {
		f.state.Or(frontDown)
		f.epoch.Add(1) // fills and writes under way keep nothing
		return
	}
	f.reads.changed()
	if inv.All {
		// Lost messages may have changed any key or purged any tag: loads
		// in flight store nothing.
		f.tags.purgeAll()
		f.changes.heardAll()
		f.epoch.Add(1)
		f.m.InvalidateAll()
		f.state.And(^frontDown)
		return
	}
	if len(inv.Tags) > 0 {
		f.tags.purge(inv.Tags)
	}
	for _, k := range inv.Keys {
		f.changes.heard(k)
		f.drop(k)
	}
}

// close ends the bus subscription and empties the front for good: with no
// invalidations arriving it could no longer be trusted.
func (f *front[T]) close() {
	if f.state.Or(frontClosed)&frontClosed != 0 {
		return
	}
	if f.stop != nil {
		f.stop()
	}
	f.epoch.Add(1)
	f.m.InvalidateAll()
	f.mu.Lock()
	f.stopped = true
	close(f.tasks)
	f.mu.Unlock()
	f.worker.Wait()
	if f.precise == nil {
		clock.release()
	}
}
