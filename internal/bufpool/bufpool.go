// Package bufpool keeps byte buffers for reuse by code that assembles bytes
// only to hand them to a call that does not keep them: a layer's Set (the
// Backend contract says Set does not keep Entry.Value after it returns), a
// store's record or command. Sharing one pool lets a write through several
// such steps reuse the same few buffers.
//
//	b := bufpool.Get()
//	rec := appendRecord(*b, e) // grows it as needed
//	err := store.Set(key, rec) // a call that does not keep the bytes
//	bufpool.Put(b, rec)
package bufpool

import "sync"

// MaxKept is the capacity above which Put drops a buffer instead of keeping
// it, so a few huge values do not pin their memory for the life of the
// process.
const MaxKept = 1 << 20

// initial is the capacity of a new buffer: room for a typical value and its
// header without growing.
const initial = 1024

var pool = sync.Pool{New: func() any { b := make([]byte, 0, initial); return &b }}

// Get returns an empty buffer (length zero), with the capacity an earlier
// use left it.
func Get() *[]byte { return pool.Get().(*[]byte) }

// Put hands b back for reuse once nothing refers to its bytes any more,
// with grown, the slice appended to *b, as its contents, so the capacity
// it grew to is kept. A buffer over MaxKept is left to the garbage
// collector.
func Put(b *[]byte, grown []byte) {
	if cap(grown) > MaxKept {
		return
	}
	*b = grown[:0]
	pool.Put(b)
}
