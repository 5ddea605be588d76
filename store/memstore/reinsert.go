package memstore

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/allegro/bigcache/v3"
)

// reinsertion writes entries read since they were written back at the
// tail of their shard's queue when they reach its head, instead of
// letting them go: FIFO-reinsertion, the CLOCK algorithm's second chance,
// as S3-FIFO's main queue does it, over bigcache's first-in, first-out
// shards, which cannot move an entry themselves. A hit sets the key's
// visited bit (admission.visit); eviction tests and clears it, so an entry
// stays as long as it is read at least once per turn of its queue, and an
// entry nobody read since it was written goes.
//
// bigcache reports each entry it evicts for room to a callback that runs
// under the shard's lock, where a write would deadlock; the callback only
// keeps the entry (bigcache hands it a copy) on the shard's short pending
// list, and the goroutine whose write caused the eviction writes it back
// once its own write has returned, at most maxChain of them (each may
// evict another visited entry); the rest wait for the shard's next write.
//
// A re-insertion must never bring back a value that a change replaced or
// deleted. The callback runs while the entry is the key's live value in
// bigcache (a replaced or deleted entry has its hash cleared and is
// skipped without a callback), and reads the word of the key's lease
// stripe; it lets the entry go if a change to the stripe is under way or
// a claim held. The re-insertion then claims the stripe only if its word
// is still exactly that (claimExact: one compare-and-swap), writes, and
// releases. Go's atomics are sequentially consistent, so for a change C of
// the key there are three cases:
//
//   - C started (raised the word) before the callback read it: C was also
//     done (the word showed no change under way), so C's write happened
//     before the callback, under the same shard lock or before it, and the
//     evicted entry is C's value or a later one.
//   - C started after the callback read the word and before the claim: the
//     word moved, the claim fails, nothing is written.
//   - C started after the claim: C waits for the release before it
//     writes, so its write lands after the re-insertion and replaces it.
//
// Clear and ClearPrefix are changes to every stripe, so the same three
// cases hold for them. A tag purge needs none: the re-inserted record is
// the same bytes, tag versions included, so it stays a miss. A SetLeased
// is no change: it may be written over by the entry it replaced, which no
// change replaced either.
type reinsertion struct {
	shards []reinsertShard
	mask   uint64
}

// reinsertShard holds the entries one bigcache shard evicted that wait to
// be written back.
type reinsertShard struct {
	n  atomic.Int32 // len(q), read without the lock
	mu sync.Mutex
	q  []evicted
	_  [24]byte // one shard per cache line
}

// evicted is an entry a shard evicted, with the word of its key's stripe
// when it was evicted.
type evicted struct {
	key  string
	rec  []byte
	st   *stripe
	word uint64
}

const (
	// maxPending bounds the entries a shard keeps waiting: more evicted
	// at once go, as they would without re-insertion.
	maxPending = 8
	// maxChain bounds the re-insertions one write makes.
	maxChain = 4
)

func newReinsertion(shards int) *reinsertion {
	return &reinsertion{shards: make([]reinsertShard, shards), mask: uint64(shards - 1)}
}

// bytes is the memory the pending lists hold while empty.
func (r *reinsertion) bytes() int { return len(r.shards) * int(unsafe.Sizeof(reinsertShard{})) }

// evicted is bigcache's OnRemoveWithReason, filtered to NoSpace: it runs
// under the lock of the evicting shard. key and rec are bigcache's copies.
func (s *Store) evicted(key string, rec []byte, _ bigcache.RemoveReason) {
	h := s.adm.hash(key)
	if !s.adm.unvisit(h) {
		return
	}
	st := s.leases.of(key)
	w := st.word.Load()
	if w&^genMask != 0 {
		return // a change under way or a claim held: let it go
	}
	sh := &s.re.shards[h&s.re.mask]
	sh.mu.Lock()
	if len(sh.q) < maxPending {
		sh.q = append(sh.q, evicted{key: key, rec: rec, st: st, word: w})
		sh.n.Add(1)
	}
	sh.mu.Unlock()
}

// reinsert writes back the entries waiting on the shard of hash h, oldest
// first.
func (s *Store) reinsert(h uint64) {
	if s.re == nil {
		return
	}
	sh := &s.re.shards[h&s.re.mask]
	for range maxChain {
		if sh.n.Load() == 0 {
			return
		}
		sh.mu.Lock()
		n := len(sh.q)
		if n == 0 {
			sh.mu.Unlock()
			return
		}
		e := sh.q[0]
		copy(sh.q, sh.q[1:])
		sh.q[n-1] = evicted{}
		sh.q = sh.q[:n-1]
		sh.n.Add(-1)
		sh.mu.Unlock()
		if !e.st.claimExact(e.word) {
			continue
		}
		_ = s.cache.Set(e.key, e.rec) // a failure only loses the entry, as eviction would
		e.st.release()
	}
}
