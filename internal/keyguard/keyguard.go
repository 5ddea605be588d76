// Package keyguard keeps a write that read its data before a change to a
// key from landing after that change: a tier's refill of an upper level
// racing a delete, an HTTP cache storing a response that an unsafe request
// has just invalidated.
//
// Every change to a key is bracketed by Begin and End on the key's stripe:
// Begin raises the stripe's generation and its count of changes in
// progress, End lowers the count. A writer takes a Stamp before it reads,
// gives up when a change is in progress, writes, and then checks the stamp
// again: when a change began since, or is still running, it undoes what it
// wrote. A writer that checks before a change begins wrote before that
// change's own writes and deletes, which therefore replace what it wrote.
//
//	st := g.Stamp(key)
//	v := readBelow(key)
//	if st.Valid() {
//		writeAbove(key, v)
//		if !st.Valid() {
//			deleteAbove(key)
//		}
//	}
//
// Keys share stripes, so a change to one key may cost another key one
// write; it never lets an old value through.
package keyguard

import (
	"hash/maphash"
	"sync/atomic"
)

// Stripes is how many stripes keys are spread over.
const Stripes = 1024

// Guard holds the stripes. Call Init before use; it is safe for concurrent
// use afterwards.
type Guard struct {
	seed    maphash.Seed
	stripes [Stripes]stripe
}

type stripe struct {
	gen    atomic.Uint64
	active atomic.Int64
}

// Init seeds the hash that spreads keys over stripes.
func (g *Guard) Init() { g.seed = maphash.MakeSeed() }

// Index returns the stripe of key, for callers that take locks per stripe.
func (g *Guard) Index(key string) int {
	return int(maphash.String(g.seed, key) % Stripes)
}

func (g *Guard) stripe(key string) *stripe { return &g.stripes[g.Index(key)] }

// Change is one writer's mark on a stripe, from Begin to End.
type Change struct {
	s       *stripe
	gen     uint64 // the generation this change made
	overlap bool   // another change was running when it began
}

// Begin marks the start of a change to key; End must follow.
func (g *Guard) Begin(key string) Change {
	s := g.stripe(key)
	busy := s.active.Add(1) > 1
	return Change{s: s, gen: s.gen.Add(1), overlap: busy}
}

// Overlapped reports whether another change to the stripe was running
// when c began, or has begun since: two changes that overlap in time may
// have reached two places in different orders. Writers ask it after their
// last write and before End.
func (c Change) Overlapped() bool {
	return c.overlap || c.s.gen.Load() != c.gen
}

// End marks the end of a change.
func (c Change) End() { c.s.active.Add(-1) }

// Stamp is what a writer remembers of a key's stripe before it reads.
type Stamp struct {
	s    *stripe
	gen  uint64
	busy bool // a change was in progress: do not write
}

// Stamp takes a stamp of key's stripe.
func (g *Guard) Stamp(key string) Stamp {
	s := g.stripe(key)
	return Stamp{s: s, gen: s.gen.Load(), busy: s.active.Load() != 0}
}

// Busy reports whether a change was in progress when the stamp was taken.
func (st Stamp) Busy() bool { return st.busy }

// Valid reports whether no change to the stamped key's stripe has begun
// since the stamp, nor is running now. The zero Stamp is not valid.
func (st Stamp) Valid() bool {
	return st.s != nil && !st.busy && st.s.active.Load() == 0 && st.s.gen.Load() == st.gen
}
