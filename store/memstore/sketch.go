package memstore

import (
	"math/bits"
	"sync/atomic"
)

// sketch estimates how often each key was seen lately: TinyLFU's
// frequency filter (Einziger, Friedman and Manes, ACM TOS 2017), built
// as Caffeine and otter build theirs. A doorkeeper Bloom filter takes a key's
// first sighting, so keys seen once cost no counter; later sightings go to a
// count-min sketch of 4-bit counters. When the sightings counted reach the
// sample size, every counter is halved and the doorkeeper cleared, so old
// popularity fades. Keys are known by a 32-bit id (see admission.id).
//
// A key's four counters sit in one 64-bit word (one in each quarter of
// its sixteen nibbles), so an increment is one compare-and-swap and an
// estimate one load. Updates race and may be lost, which a frequency
// estimate can afford; every access is atomic, so the race is not a data
// race. Words are picked by multiplying rather than masking, so the
// tables are sized to the entries exactly, not to a power of two.
type sketch struct {
	table   []atomic.Uint64 // sixteen 4-bit counters a word
	door    []atomic.Uint64 // doorkeeper bits
	sample  int64           // sightings between two halvings
	entries int             // the capacity in entries it was sized for

	counted atomic.Int64 // sightings since the last halving
	halving atomic.Bool  // a halving is under way
}

// Sizing, per entry of capacity: half a byte of counters (one 4-bit
// counter; a key takes four of them, in a word shared with others) and a
// byte of doorkeeper bits. The window between halvings is twice the
// capacity: a key counts as used again if it comes back within that many
// sightings. A wider window ranks more keys but fills the counters of a
// sketch this small with collisions; BenchmarkHitRatio in the benchmarks
// module measured the choice.
const (
	entriesPerWord     = 16 // 8 bytes of counters for 16 entries
	entriesPerDoorWord = 8  // 64 doorkeeper bits for 8 entries
	sampleFactor       = 2
)

// newSketch returns a sketch sized for a cache of entries entries.
func newSketch(entries int) *sketch {
	entries = max(entries, 64)
	return &sketch{
		table:   make([]atomic.Uint64, entries/entriesPerWord),
		door:    make([]atomic.Uint64, entries/entriesPerDoorWord),
		sample:  int64(entries) * sampleFactor,
		entries: entries,
	}
}

// mix is a 64-bit finalizer (murmur3's): every output bit depends on
// every input bit.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// pick maps 32 random bits onto [0, n) without a division.
func pick(r uint32, n int) int { return int(uint64(r) * uint64(n) >> 32) }

// doorBits returns the doorkeeper word of id and its two bits in it.
func (s *sketch) doorBits(id uint32) (*atomic.Uint64, uint64) {
	d := mix(uint64(id) | 1<<32)
	return &s.door[pick(uint32(d), len(s.door))], 1<<((d>>40)&63) | 1<<((d>>52)&63)
}

// word returns id's counter word and the lowest bit of each of its four
// counters in it: one counter in each quarter, so they never coincide.
func (s *sketch) word(id uint32) (*atomic.Uint64, uint64) {
	x := mix(uint64(id))
	k := uint(x >> 32)
	units := uint64(1)<<((0+k&3)<<2) |
		1<<((4+(k>>2)&3)<<2) |
		1<<((8+(k>>4)&3)<<2) |
		1<<((12+(k>>6)&3)<<2)
	return &s.table[pick(uint32(x), len(s.table))], units
}

// bump adds one to each counter of v at units that is below 15. A
// counter at 15 has its four bits set: t & t>>1 & t>>2 & t>>3 has its
// lowest bit set then only, so the counters are tested at once, and no
// increment carries into the next counter.
func bump(v, units uint64) uint64 {
	t := v & (units * 15)
	full := t & (t >> 1) & (t >> 2) & (t >> 3) & units
	return v + units&^full
}

// least returns the smallest of the counters of v at units.
func least(v, units uint64) int {
	f := uint64(15)
	for u := units; u != 0; u &= u - 1 {
		f = min(f, v>>bits.TrailingZeros64(u)&15)
	}
	return int(f)
}

// add records a sighting of id. It reports whether the sighting changed
// the sketch, so that it counts towards the sample: a first sighting only
// sets the doorkeeper, and a key whose counters are all saturated changes
// nothing.
func (s *sketch) add(id uint32) bool {
	w, b := s.doorBits(id)
	if v := w.Load(); v&b != b {
		w.Or(b)
		return true
	}
	word, units := s.word(id)
	for {
		old := word.Load()
		nw := bump(old, units)
		if nw == old || word.CompareAndSwap(old, nw) {
			return nw != old
		}
	}
}

// addEstimate is add then estimate, with id's words found once: it
// records a sighting of id and returns id's estimate with it counted, and
// whether the sighting changed the sketch.
func (s *sketch) addEstimate(id uint32) (int, bool) {
	word, units := s.word(id)
	if w, b := s.doorBits(id); w.Load()&b != b {
		w.Or(b)
		// A first sighting: its counters hold other keys' counts only.
		return 1, true
	}
	for {
		old := word.Load()
		nw := bump(old, units)
		if nw == old || word.CompareAndSwap(old, nw) {
			return least(nw, units) + 1, nw != old
		}
	}
}

// estimate returns how often id was seen lately: the smallest of its
// counters, plus one if the doorkeeper holds it.
func (s *sketch) estimate(id uint32) int {
	word, units := s.word(id)
	f := least(word.Load(), units)
	if w, b := s.doorBits(id); w.Load()&b == b {
		f++
	}
	return f
}

// count adds n sightings to the sample and halves the sketch when the
// sample is full. One caller halves; the others go on meanwhile.
func (s *sketch) count(n int64) {
	if s.counted.Add(n) < s.sample || !s.halving.CompareAndSwap(false, true) {
		return
	}
	for i := range s.table {
		w := &s.table[i]
		w.Store((w.Load() >> 1) & 0x7777777777777777)
	}
	for i := range s.door {
		s.door[i].Store(0)
	}
	s.counted.Store(s.sample / 2)
	s.halving.Store(false)
}

// resized returns a sketch sized for entries that gives every key at
// least the estimate s gives it: each new word takes the largest counters
// (and every doorkeeper bit) of the old words whose keys it now holds.
func (s *sketch) resized(entries int) *sketch {
	n := newSketch(entries)
	remap(n.table, s.table, maxNibbles)
	remap(n.door, s.door, func(a, b uint64) uint64 { return a | b })
	n.counted.Store(min(s.counted.Load(), n.sample/2))
	return n
}

// remap fills to from from, where a key in from's word i is in to's word
// pick(r, len(to)) for the r with pick(r, len(from)) == i: each word of to
// merges the words of from whose ranges of r overlap its own.
func remap(to, from []atomic.Uint64, merge func(a, b uint64) uint64) {
	m, n := uint64(len(to)), uint64(len(from))
	for j := range to {
		lo := uint64(j) << 32 / m       // the first r of word j
		hi := (uint64(j+1)<<32 - 1) / m // its last
		var v uint64
		for i := lo * n >> 32; i <= hi*n>>32; i++ {
			v = merge(v, from[i].Load())
		}
		to[j].Store(v)
	}
}

// maxNibbles returns the nibble-wise maximum of a and b.
func maxNibbles(a, b uint64) uint64 {
	var r uint64
	for sh := uint(0); sh < 64; sh += 4 {
		r |= max((a>>sh)&15, (b>>sh)&15) << sh
	}
	return r
}

// bytes is the memory the sketch holds.
func (s *sketch) bytes() int { return 8 * (len(s.table) + len(s.door)) }
