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
// Keys share stripes, so a change to one key may cost a refill of another;
// it never lets a stale value through. Clearing every key bumps one global
// generation that every stamp includes.
type guard struct {
	seed    maphash.Seed
	global  atomic.Uint64
	all     atomic.Int64 // clears of every key in progress
	stripes [guardStripes]stripe
}

const guardStripes = 256

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

func (g *guard) stripe(key string) *stripe {
	return &g.stripes[maphash.String(g.seed, key)%guardStripes]
}

// begin marks the start of a change to key; end must follow.
func (g *guard) begin(key string) *stripe {
	s := g.stripe(key)
	s.active.Add(1)
	s.gen.Add(1)
	return s
}

func (g *guard) end(s *stripe) { s.active.Add(-1) }

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
