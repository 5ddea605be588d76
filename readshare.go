package hitbox

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
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
type sharedReads struct {
	seed   maphash.Seed
	shards [readShards]readShard
}

type readShard struct {
	mu sync.Mutex
	m  map[string]*readCall
	_  [40]byte // a shard per cache line: the locks are hot under RunParallel
}

// readCall is one read in progress. done is made only when a second
// caller arrives, so a read nobody shares costs no channel.
type readCall struct {
	done    chan struct{}
	waiters int // callers waiting on done, for tests
	e       Entry
	tags    []string
	err     error
}

// fetcher reads one key from a pipeline. An interface, not a func, so a
// Cache passes itself without a closure to allocate.
type fetcher interface {
	fetch(ctx context.Context, key string) (Entry, []string, error)
}

var readCalls = sync.Pool{New: func() any { return new(readCall) }}

func newSharedReads() *sharedReads { return &sharedReads{seed: maphash.MakeSeed()} }

// do returns what f.fetch(ctx, key) returns, sharing one call among the callers
// that ask for key while it runs. A caller whose ctx is done stops waiting.
// When the shared read failed because its leader's ctx ended, a caller
// whose own ctx is live reads for itself: one caller giving up never fails
// the others.
func (r *sharedReads) do(ctx context.Context, key string, f fetcher) (Entry, []string, error) {
	sh := &r.shards[maphash.String(r.seed, key)%readShards]
	sh.mu.Lock()
	if call, ok := sh.m[key]; ok {
		if call.done == nil {
			call.done = make(chan struct{})
		}
		call.waiters++
		done := call.done
		sh.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return Entry{}, nil, ctx.Err()
		}
		if call.err != nil && isContextErr(call.err) && ctx.Err() == nil {
			return f.fetch(ctx, key)
		}
		return call.e, call.tags, call.err
	}
	if sh.m == nil {
		sh.m = make(map[string]*readCall)
	}
	call := readCalls.Get().(*readCall)
	sh.m[key] = call
	sh.mu.Unlock()

	var e Entry
	var tags []string
	err := error(errReadPanicked)
	defer func() {
		sh.mu.Lock()
		delete(sh.m, key)
		done := call.done
		if done != nil {
			call.e, call.tags, call.err = e, tags, err
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
var errReadPanicked = errors.New("hitbox: a shared backend read panicked")

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

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
