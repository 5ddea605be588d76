package cache

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// keyStripes is how many change counters a Cache keeps for its keys; keys
// share them by hash, and a shared counter only keeps a load from storing
// needlessly.
const keyStripes = 1024

// keyLocks is how many locks cover the counters, keyStripes/keyLocks
// counters each.
const keyLocks = 64

// keyChanges is how a load learns that a change this process made or
// heard of crossed it, so that it returns its answer but stores nothing:
// the process-local half of stale-set prevention, and the only half over
// a pipeline without leases (hitbox.Leaser).
//
// A load notes its key's counter (a mark) before it calls the loader. A
// change made through the Cache (Set, Delete) counts itself under the
// key's lock before it reaches the pipeline; a load without a lease stores
// only under the same lock, held shared from its check of the mark to the
// end of its write. So a change either counts before the check (the load
// stores nothing) or waits for the write to end, and reaches the pipeline
// after it (the change wins). A load with a lease checks the mark without
// the lock: the lease orders the write against the change in the pipeline
// itself. A change heard on the bus counts without the lock: it was made
// elsewhere, and only a lease can order it against the write.
type keyChanges struct {
	seed  maphash.Seed
	epoch atomic.Uint64 // every key: a gap on the front's bus
	gens  [keyStripes]atomic.Uint64
	locks [keyLocks]keyLock
}

type keyLock struct {
	sync.RWMutex
	_ [40]byte // a lock per 64-byte cache line
}

// keyMark is the counter of one key, and the epoch, when a load began.
type keyMark struct {
	i          uint32
	epoch, gen uint64
}

func (t *keyChanges) stripe(key string) uint32 {
	return uint32(maphash.String(t.seed, key) % keyStripes)
}

func (t *keyChanges) mark(key string) keyMark {
	i := t.stripe(key)
	return keyMark{i: i, epoch: t.epoch.Load(), gen: t.gens[i].Load()}
}

// current reports whether no change crossed the load that took m. The
// caller holds m's lock (hold) when it is about to store.
func (t *keyChanges) current(m keyMark) bool {
	return t.epoch.Load() == m.epoch && t.gens[m.i].Load() == m.gen
}

// change counts a change of key that this process is about to make,
// after any load's store of key already under way has ended.
func (t *keyChanges) change(key string) {
	i := t.stripe(key)
	l := &t.locks[i%keyLocks]
	l.Lock()
	t.gens[i].Add(1)
	l.Unlock()
}

// heard counts a change of key made elsewhere, heard on the bus.
func (t *keyChanges) heard(key string) { t.gens[t.stripe(key)].Add(1) }

// heardAll counts a change of every key: a gap on the bus.
func (t *keyChanges) heardAll() { t.epoch.Add(1) }

// hold takes, shared, the locks of the marks ms (each once, in order, so
// two holders and a changer never wait on one another in a cycle), and
// returns the function that releases them.
func (t *keyChanges) hold(ms ...keyMark) (release func()) {
	if len(ms) == 1 {
		l := &t.locks[ms[0].i%keyLocks]
		l.RLock()
		return l.RUnlock
	}
	idx := make([]uint32, len(ms))
	for i, m := range ms {
		idx[i] = m.i % keyLocks
	}
	slices.SortFunc(idx, cmp.Compare)
	idx = slices.Compact(idx)
	for _, i := range idx {
		t.locks[i].RLock()
	}
	return func() {
		for _, i := range idx {
			t.locks[i].RUnlock()
		}
	}
}
