// Package bufpool keeps byte buffers for reuse by code that assembles bytes
// only to hand them to a call that does not keep them: a layer's Set (the
// Backend contract says Set does not keep Entry.Value after it returns), a
// store's record or command. Sharing one pool lets a write through several
// such steps reuse the same few buffers.
//
//	b := bufpool.Get()
//	*b = appendRecord(*b, e) // grow it as needed
//	err := store.Set(key, *b) // a call that does not keep the bytes
//	bufpool.Put(b)
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

// Put hands b back for reuse once nothing refers to its bytes any more.
// Store the grown slice in *b first, so its capacity is kept. A buffer over
// MaxKept is left to the garbage collector.
func Put(b *[]byte) {
	if cap(*b) > MaxKept {
		return
	}
	*b = (*b)[:0]
	pool.Put(b)
}
