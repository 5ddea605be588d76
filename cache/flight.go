package cache

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// flight is one load of one key that callers share: GetOrLoad's and
// GetOrLoadMany's alike, so a key is loaded once at a time whichever of
// them asks.
type flight[T any] struct {
	done    chan struct{} // closed once v and err are set
	v       T
	err     error
	joiners int // callers that joined it, for tests; guarded by flights.mu
	// crossed is set, before done is closed, when the load's answer was
	// not stored: a change crossed the load, or the store failed, so no
	// lease vouched that none did. The answer may be what a change
	// replaced. Its leader's call began before any such change and may
	// have it; a caller that joined later may have begun after the change,
	// and loads again instead (see wait).
	crossed bool
}

// flights are the loads in progress, by key.
type flights[T any] struct {
	mu       sync.Mutex
	m        map[string]*flight[T]
	finished atomic.Uint64 // loads finished so far, of any key
}

// join returns the load in progress for key, or starts one: lead is then
// true, and the caller must finish it.
func (fs *flights[T]) join(key string) (f *flight[T], lead bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		f.joiners++
		return f, false
	}
	f = &flight[T]{done: make(chan struct{})}
	fs.m[key] = f
	return f, true
}

// finish hands v and err to every caller of f and lets the next caller of
// key start a new load.
func (fs *flights[T]) finish(key string, f *flight[T], v T, err error) {
	fs.mu.Lock()
	if fs.m[key] == f {
		delete(fs.m, key)
	}
	fs.mu.Unlock()
	f.v, f.err = v, err
	fs.finished.Add(1)
	close(f.done)
}

// panicked turns a value recovered from a loader's panic into the error
// every caller waiting for that load gets.
func panicked(r any) error {
	return fmt.Errorf("hitbox/cache: load panicked: %v\n%s", r, debug.Stack())
}

// joined returns how many callers joined the load of key in progress.
func (fs *flights[T]) joined(key string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		return f.joiners
	}
	return 0
}
