package memstore

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// admission decides, when a write would evict, whether the written key is
// worth more than what it would push out: TinyLFU's admission over
// bigcache's first-in, first-out shards. While a shard has room every write
// is kept. Once the bytes written to a shard since it was last cleared
// reach its size, bigcache evicts from the front of its queue on every
// write, and a write is kept only if its key has been seen more often
// lately (sketch) than the key at that front.
//
// bigcache does not show its queues, so each shard's is modelled here: a
// count of the record bytes written to it, whose remainder by the shard's
// size is where the queue's front and back meet, and a ring of key hashes
// sampled by that position. The ring's slot under the position holds a key
// written there one lap ago: the victim, or a neighbour of it. The model
// is exact for records of one size and drifts a little for mixed ones
// (bigcache also leaves the end of its array unused when a record does not
// fit there); either way it only steers which writes are kept.
type admission struct {
	seed   maphash.Seed
	sk     atomic.Pointer[sketch]
	shards []admitShard
	mask   uint64
	size   int64 // bytes per shard
	limit  int64 // bytes in all

	sized atomic.Bool // the sketch was sized to the entries seen at pressure
}

// admitShard models one of bigcache's shards.
type admitShard struct {
	written atomic.Int64    // record bytes written since the last clear
	records atomic.Int64    // records written since the last clear
	ring    []atomic.Uint32 // key ids by queue position; 0 for none
	slot    int64           // bytes of queue per ring slot
	_       [32]byte
}

// The ring keeps a victim sample per ringEntries entries (of the nominal
// size), between minRing and maxRing samples per shard.
const (
	ringEntries = 16
	minRing     = 16
	maxRing     = 1024
)

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
	for i := range a.shards {
		sh := &a.shards[i]
		slots := min(max(shardBytes/(ringEntries*nominalRecord), minRing), maxRing)
		sh.ring = make([]atomic.Uint32, slots)
		sh.slot = max(1, int64(shardBytes)/int64(slots))
	}
	a.sk.Store(newSketch(int(limit / nominalRecord)))
	return a
}

// hash is the key hash both the admission and bigcache use, so a hash's
// shard here is its shard in bigcache.
func (a *admission) hash(key string) uint64 { return maphash.String(a.seed, key) }

// id is the 32 bits of h the sketch and the ring know a key by; never 0,
// which marks an empty ring slot.
func id(h uint64) uint32 { return uint32(h>>32) | 1 }

// Sum64 makes the admission bigcache's Hasher.
func (a *admission) Sum64(key string) uint64 { return a.hash(key) }

// touch records an access to h.
func (a *admission) touch(h uint64) {
	sk := a.sk.Load()
	if sk.add(id(h)) {
		sk.count(1)
	}
}

// admit reports whether a write of a record of size bytes (as bigcache
// stores it) under h is to be kept, and if so takes it into the model.
func (a *admission) admit(h uint64, size int) bool {
	sh := &a.shards[h&a.mask]
	n := int64(size)
	if p := sh.written.Load(); p+n > a.size {
		if !a.sized.Load() {
			a.resize()
		}
		// The write overwrites the queue up to p+n: the record there was
		// written a lap ago and is the first bigcache evicts.
		slots := int64(len(sh.ring))
		victim := sh.ring[((p+n-1)%a.size)/sh.slot%slots].Load()
		if victim != 0 && victim != id(h) {
			sk := a.sk.Load()
			// A tie admits: measured on the hit-ratio workload it keeps
			// more than refusing it does, and a key rewritten once a lap
			// (its own record as the victim) is always kept.
			if sk.estimate(id(h)) < sk.estimate(victim) {
				return false
			}
		}
	}
	p := sh.written.Add(n) - n
	sh.records.Add(1)
	slots := int64(len(sh.ring))
	first, last := (p%a.size)/sh.slot, (p%a.size+n-1)/sh.slot
	for i := first; i <= last && i-first < slots; i++ {
		sh.ring[i%slots].Store(id(h))
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
}

// clear forgets the queues' contents, after bigcache was reset. The
// frequencies stay: they describe the requests, not the entries.
func (a *admission) clear() {
	for i := range a.shards {
		sh := &a.shards[i]
		sh.written.Store(0)
		sh.records.Store(0)
		for j := range sh.ring {
			sh.ring[j].Store(0)
		}
	}
	a.sized.Store(false)
}

// bytes is the memory the admission holds.
func (a *admission) bytes() int {
	n := a.sk.Load().bytes()
	for i := range a.shards {
		n += 4 * len(a.shards[i].ring)
	}
	return n + len(a.shards)*int(unsafe.Sizeof(admitShard{}))
}

// seen records a read of key for admission.
func (s *Store) seen(key string) {
	if a := s.adm; a != nil {
		a.touch(a.hash(key))
	}
}

// declined records a write of key for admission and reports whether the
// write, of a record of rec bytes, is to be dropped rather than kept.
func (s *Store) declined(key string, rec int) bool {
	a := s.adm
	if a == nil {
		return false
	}
	h := a.hash(key)
	a.touch(h)
	return !a.admit(h, queueRecord(len(key), rec))
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
