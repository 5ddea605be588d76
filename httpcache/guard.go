package httpcache

import (
	"hash/maphash"
	"sync/atomic"
)

// guard keeps a response that was asked for before an invalidation from
// being stored after it (RFC 9111 §4.4). The race it closes: a miss (a
// collapse leader, a validation, a stale-while-revalidate refresh) asks
// the handler; meanwhile a POST to the same URI succeeds and deletes what
// is stored; then the miss's older response arrives and is stored, where
// it would be served until it expires.
//
// An invalidation brackets its deletes with begin and end on the key's
// stripe: begin raises the stripe's generation and its count of
// invalidations in progress. A request takes a stamp of its primary key's
// stripe before it reads the pipeline; it stores only while the stamp is
// still valid (no invalidation began since, none is running), and checks
// again after its writes: when an invalidation began meanwhile it deletes
// what it wrote, as its writes may have landed after the invalidation's
// deletes. It is the same scheme as the tier's refill guard.
//
// Keys share stripes, so an invalidation may cost another URI one store;
// it never lets an invalidated response back in.
type guard struct {
	seed    maphash.Seed
	stripes [guardStripes]stripe
}

const guardStripes = 1024

type stripe struct {
	gen    atomic.Uint64
	active atomic.Int64
}

// stamp is what a request remembers of its key's stripe.
type stamp struct {
	s    *stripe
	gen  uint64
	busy bool // an invalidation was running: store nothing
}

func (g *guard) init() { g.seed = maphash.MakeSeed() }

func (g *guard) stripe(key string) *stripe {
	return &g.stripes[maphash.String(g.seed, key)%guardStripes]
}

// begin marks the start of an invalidation of key; end must follow.
func (g *guard) begin(key string) *stripe {
	s := g.stripe(key)
	s.active.Add(1)
	s.gen.Add(1)
	return s
}

func (g *guard) end(s *stripe) { s.active.Add(-1) }

func (g *guard) stamp(key string) stamp {
	s := g.stripe(key)
	st := stamp{s: s, gen: s.gen.Load()}
	st.busy = s.active.Load() != 0
	return st
}

// valid reports whether no invalidation of the stamped key's stripe has
// begun since the stamp, nor is running now.
func (st stamp) valid() bool {
	return st.s != nil && !st.busy && st.s.active.Load() == 0 && st.s.gen.Load() == st.gen
}
