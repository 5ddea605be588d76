package tier

import (
	"hash/maphash"
	"sync/atomic"
)

// guard keeps refills from putting back a value that a write, a delete or
// an invalidation has just replaced. The race it closes: a read misses L1
// and reads the old value from L2; meanwhile a delete removes the key from
// L2 and then from L1; then the read copies the old value into L1, where it
// would live on. Deleting lower levels first is not enough on its own.
//
// Every change to a key (Set, Delete, a bus invalidation) is bracketed by
// begin and end on the key's stripe: begin raises the stripe's generation
// and its count of changes in progress, end lowers the count. A refill
// takes a stamp before it reads the lower level, gives up when a change is
// in progress, writes the upper level, and then checks the stamp again:
// when a change began since, or is still running, it deletes what it wrote.
// A refill that checks before a change begins wrote before that change's
// own writes and deletes, which therefore replace what it wrote.
//
// Two changes to one key that overlap in time can also leave the levels
// apart: Set(x) and Set(y) may reach L2 as x, y and L1 as y, x. end reports
// such an overlap (another change was running when this one began, or began
// before it ended) and the writer then drops the key from the upper levels;
// the last of the overlapping writers drops it after every write of all of
// them, so the levels agree again.
//
// Keys share stripes, so a change to one key may cost a refill of another,
// or an L1 copy; it never lets a stale value through. Clearing every key
// bumps one global generation that every stamp includes.
type guard struct {
	seed    maphash.Seed
	global  atomic.Uint64
	all     atomic.Int64 // clears of every key in progress
	stripes [guardStripes]stripe
}

const guardStripes = 1024

type stripe struct {
	gen    atomic.Uint64
	active atomic.Int64
}

// stamp is what a refill remembers of a key's stripe before it reads.
type stamp struct {
	s      *stripe
	gen    uint64
	global uint64
	busy   bool // a change was in progress: do not refill
}

func (g *guard) init() { g.seed = maphash.MakeSeed() }

func (g *guard) index(key string) int {
	return int(maphash.String(g.seed, key) % guardStripes)
}

func (g *guard) stripe(key string) *stripe { return &g.stripes[g.index(key)] }

// change is one writer's mark on a stripe, from begin to end.
type change struct {
	s       *stripe
	gen     uint64 // the generation this change made
	overlap bool   // another change was running when it began
}

// begin marks the start of a change to key; end must follow.
func (g *guard) begin(key string) change {
	s := g.stripe(key)
	busy := s.active.Add(1) > 1
	return change{s: s, gen: s.gen.Add(1), overlap: busy}
}

// overlapped reports whether another change to the stripe was running when
// c began, or has begun since. Writers ask it after their last write and
// before end.
func (g *guard) overlapped(c change) bool {
	return c.overlap || c.s.gen.Load() != c.gen
}

// end marks the end of a change.
func (g *guard) end(c change) { c.s.active.Add(-1) }

// beginAll marks the start of a change to every key (a clear, a bus gap);
// endAll must follow.
func (g *guard) beginAll() {
	g.all.Add(1)
	g.global.Add(1)
}

func (g *guard) endAll() { g.all.Add(-1) }

func (g *guard) stamp(key string) stamp {
	s := g.stripe(key)
	st := stamp{s: s, global: g.global.Load(), gen: s.gen.Load()}
	st.busy = s.active.Load() != 0 || g.all.Load() != 0
	return st
}

// valid reports whether no change to the stamped key has begun since the
// stamp, nor is running now.
func (g *guard) valid(st stamp) bool {
	return !st.busy && st.s.active.Load() == 0 && g.all.Load() == 0 &&
		st.s.gen.Load() == st.gen && g.global.Load() == st.global
}
