package cache

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/hitbox-go/hitbox"
)

// readShards spreads the keys being read over this many locks, so callers
// of different keys on different cores rarely meet on one.
const readShards = 64

// sharedReads collapses the concurrent backend reads of one key made by
// GetOrLoad: under a stampede, a thousand callers of a cold key make one
// read of the pipeline (one Redis GET), then share its load, rather than
// make a thousand reads that all miss and crowd the connection pool. Each
// caller still decodes its own value from the shared Entry, so no caller
// sees another's copy.
//
// A caller joins only a read that began after the last change this Cache
// knows of (its own Set, Delete or InvalidateTags, or an invalidation its
// front heard on the bus): a caller that starts after a purge returned
// never gets the answer of a read that began before it.
type sharedReads struct {
	seed    maphash.Seed
	changes atomic.Uint64 // changes seen so far; a read is shared only within one
	shards  [readShards]readShard
}

type readShard struct {
	mu sync.Mutex
	m  map[string]*readCall
	_  [48]byte // a shard per 64-byte cache line: the locks are hot under RunParallel
}

// readCall is one read in progress. done is made only when a second
// caller arrives, so a read nobody shares costs no channel.
type readCall struct {
	done      chan struct{}
	waiters   int    // callers waiting on done, for tests
	changes   uint64 // sharedReads.changes when the read began
	e         hitbox.Entry
	tags      []string
	err       error
	abandoned bool // the leader's ctx ended: its error is not the others'
}

// fetcher reads one key from a pipeline. An interface, not a func, so a
// Cache passes itself without a closure to allocate.
type fetcher interface {
	fetch(ctx context.Context, key string) (hitbox.Entry, []string, error)
}

var readCalls = sync.Pool{New: func() any { return new(readCall) }}

func newSharedReads() *sharedReads { return &sharedReads{seed: maphash.MakeSeed()} }

// changed records a change to what reads may return; reads begun before
// it are not shared with callers that come after.
func (r *sharedReads) changed() { r.changes.Add(1) }

// do returns what f.fetch(ctx, key) returns, sharing one call among the callers
// that ask for key while it runs. A caller whose ctx is done stops waiting.
// When the shared read failed because its leader's ctx ended, a caller
// whose own ctx is live reads for itself: one caller giving up never fails
// the others. A backend's own timeout is everyone's answer.
func (r *sharedReads) do(ctx context.Context, key string, f fetcher) (hitbox.Entry, []string, error) {
	changes := r.changes.Load()
	sh := &r.shards[maphash.String(r.seed, key)%readShards]
	sh.mu.Lock()
	if call, ok := sh.m[key]; ok && call.changes != changes {
		// That read began before a change this caller must see.
		sh.mu.Unlock()
		return f.fetch(ctx, key)
	} else if ok {
		if call.done == nil {
			call.done = make(chan struct{})
		}
		call.waiters++
		done := call.done
		sh.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return hitbox.Entry{}, nil, ctx.Err()
		}
		if call.abandoned && ctx.Err() == nil {
			return f.fetch(ctx, key)
		}
		return call.e, call.tags, call.err
	}
	if sh.m == nil {
		sh.m = make(map[string]*readCall)
	}
	call := readCalls.Get().(*readCall)
	call.changes = changes
	sh.m[key] = call
	sh.mu.Unlock()

	var e hitbox.Entry
	var tags []string
	err := error(errReadPanicked)
	defer func() {
		sh.mu.Lock()
		delete(sh.m, key)
		done := call.done
		if done != nil {
			call.e, call.tags, call.err = e, tags, err
			call.abandoned = err != nil && ctx.Err() != nil
		}
		sh.mu.Unlock()
		if done != nil {
			close(done) // the waiters own call from here on
			return
		}
		*call = readCall{}
		readCalls.Put(call) // nobody joined, and nobody can now
	}()
	e, tags, err = f.fetch(ctx, key)
	return e, tags, err
}

// errReadPanicked is what callers sharing a read get when the backend
// panicked in it (the leader's goroutine carries the panic on).
var errReadPanicked = errors.New("hitbox/cache: a shared backend read panicked")

// waiting returns how many callers wait on the read of key in progress.
func (r *sharedReads) waiting(key string) int {
	sh := &r.shards[maphash.String(r.seed, key)%readShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if call, ok := sh.m[key]; ok {
		return call.waiters
	}
	return 0
}
