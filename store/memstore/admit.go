package memstore

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// admission decides, when a write would evict, whether the written key is
// worth an eviction: TinyLFU's frequency filter over bigcache's first-in,
// first-out shards. While a shard has room every write is kept. Once the
// bytes written to a shard since it was last cleared reach its size,
// bigcache evicts from the front of its queue on every write, and a write
// is kept only if its key was used before within the sketch's window
// (its estimate, this write counted, is at least admitMin): keys used once
// never cost an eviction.
//
// The written key does not compete with the entry it would evict, as
// TinyLFU over an LRU does: bigcache cannot move an entry from the front
// of its queue to the back, so a frequent entry at the front would refuse
// every write to its shard until its count decays, and the hit-ratio
// workload keeps fewer hits that way than with the threshold.
type admission struct {
	seed   maphash.Seed
	sk     atomic.Pointer[sketch]
	shards []admitShard
	mask   uint64
	size   int64 // bytes per shard
	limit  int64 // bytes in all

	sized atomic.Bool // the sketch was sized to the entries seen at pressure

	// visits are the visited bits of re-insertion (reinsert.go), sized
	// with the sketch.
	visits atomic.Pointer[visitBits]
}

// admitShard counts what was written to one of bigcache's shards.
type admitShard struct {
	written atomic.Int64 // record bytes written since the last clear
	records atomic.Int64 // records written since the last clear
	_       [48]byte     // one shard per cache line
}

// admitMin is the estimate a key needs, its write counted, to be kept by
// a full shard: a use before this one within the sketch's window.
const admitMin = 2

// nominalRecord is the record size the sketch is first sized for, before
// the store has seen its records.
const nominalRecord = 1024

func newAdmission(shards int, shardBytes int, limit int64) *admission {
	a := &admission{
		seed:   maphash.MakeSeed(),
		shards: make([]admitShard, shards),
		mask:   uint64(shards - 1),
		size:   int64(shardBytes),
		limit:  limit,
	}
	a.sk.Store(newSketch(int(limit / nominalRecord)))
	a.visits.Store(newVisitBits(int(limit / nominalRecord)))
	return a
}

// hash is the key hash both the admission and bigcache use, so a hash's
// shard here is its shard in bigcache.
func (a *admission) hash(key string) uint64 { return maphash.String(a.seed, key) }

// id is the 32 bits of h the sketch knows a key by.
func id(h uint64) uint32 { return uint32(h >> 32) }

// Sum64 makes the admission bigcache's Hasher.
func (a *admission) Sum64(key string) uint64 { return a.hash(key) }

// touch records an access to h.
func (a *admission) touch(h uint64) {
	sk := a.sk.Load()
	if sk.add(id(h)) {
		sk.count(1)
	}
}

// write records a write under h of a record of size bytes (as bigcache
// stores it) and reports whether it is to be kept, counting its bytes if
// so. Under pressure the sighting and the estimate are one pass over the
// key's counters.
func (a *admission) write(h uint64, size int) bool {
	sh := &a.shards[h&a.mask]
	n := int64(size)
	if sh.written.Load()+n > a.size {
		if !a.sized.Load() {
			a.resize()
		}
		sk := a.sk.Load()
		est, changed := sk.addEstimate(id(h))
		if changed {
			sk.count(1)
		}
		if est < admitMin {
			return false
		}

	} else {
		a.touch(h)
	}
	sh.written.Add(n)
	if !a.sized.Load() {
		sh.records.Add(1) // only resize reads it
	}
	return true
}

// resize sizes the sketch for the number of entries the store holds when
// it is first full, estimated from the records written so far, keeping the
// counts it has.
func (a *admission) resize() {
	if !a.sized.CompareAndSwap(false, true) {
		return
	}
	var written, records int64
	for i := range a.shards {
		written += a.shards[i].written.Load()
		records += a.shards[i].records.Load()
	}
	if records == 0 || written == 0 {
		return
	}
	entries := int(a.limit / max(1, written/records))
	old := a.sk.Load()
	if entries < old.entries*2 && entries > old.entries/2 {
		return
	}
	a.sk.Store(old.resized(entries))
	// The visited bits start afresh: an entry read before loses its second
	// chance once, when the store first fills.
	a.visits.Store(newVisitBits(entries))
}

// clear forgets what was written, after bigcache was reset. The
// frequencies stay: they describe the requests, not the entries.
func (a *admission) clear() {
	for i := range a.shards {
		a.shards[i].written.Store(0)
		a.shards[i].records.Store(0)
	}
	a.sized.Store(false)
}

// bytes is the memory the admission holds.
func (a *admission) bytes() int {
	return a.sk.Load().bytes() + 8*len(a.visits.Load().w) + len(a.shards)*int(unsafe.Sizeof(admitShard{}))
}

// visitBits are the visited bits of re-insertion: one bit per key hash,
// set by a hit and tested and cleared when bigcache evicts the key. Keys
// share bits (entriesPerVisitWord entries to 64 of them), so an entry
// nobody read may now and then get the second chance of one that was
// read: a wasted write, never a wrong value.
type visitBits struct{ w []atomic.Uint64 }

// entriesPerVisitWord is the entries of capacity one word of visited bits
// serves: four bits an entry.
const entriesPerVisitWord = 16

func newVisitBits(entries int) *visitBits {
	return &visitBits{w: make([]atomic.Uint64, max(1, entries/entriesPerVisitWord))}
}

// bit returns h's visited bit and its word. The word comes from bits of
// h that neither the shard (its low bits) nor the bit (its top six) use.
func (v *visitBits) bit(h uint64) (*atomic.Uint64, uint64) {
	return &v.w[pick(uint32(h>>16), len(v.w))], 1 << (h >> 58)
}

// visit sets h's visited bit: a load, and a write only when it is clear.
func (a *admission) visit(h uint64) {
	w, b := a.visits.Load().bit(h)
	if w.Load()&b == 0 {
		w.Or(b)
	}
}

// unvisit clears h's visited bit and reports whether it was set.
func (a *admission) unvisit(h uint64) bool {
	w, b := a.visits.Load().bit(h)
	return w.And(^b)&b != 0
}

// seen records a read of key for admission and re-insertion.
func (s *Store) seen(key string) {
	if a := s.adm; a != nil {
		h := a.hash(key)
		a.touch(h)
		a.visit(h)
	}
}

// admit records a write of key for admission and reports whether the
// write, of a record of rec bytes, is to be kept, with key's admission
// hash (0 without admission, which keeps every write).
func (s *Store) admit(key string, rec int) (uint64, bool) {
	a := s.adm
	if a == nil {
		return 0, true
	}
	h := a.hash(key)
	return h, a.write(h, queueRecord(len(key), rec))
}

// queueRecord is the bytes bigcache's queue takes for a record of rec
// bytes under a key of keyLen bytes: its header, the key, the record and
// the length in front of them.
func queueRecord(keyLen, rec int) int {
	n := bigcacheHeader + keyLen + rec
	switch {
	case n < 127:
		return n + 1
	case n < 16382:
		return n + 2
	case n < 2097149:
		return n + 3
	case n < 268435452:
		return n + 4
	}
	return n + 5
}
