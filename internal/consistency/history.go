package consistency

import (
	"slices"
	"sync"
	"time"
)

// Kind is what an operation did.
type Kind uint8

// The kinds of operation a history holds.
const (
	// Set wrote a new version of one key to the source, then to the cache.
	Set Kind = iota
	// Delete raised one key's version in the source, then deleted the key
	// from the cache.
	Delete
	// Purge raised the version of every key carrying one tag, then
	// invalidated the tag in the cache.
	Purge
	// Get read one key from the cache, without loading.
	Get
	// GetOrLoad read one key, loading it from the source on a miss.
	GetOrLoad
	// GetOrLoadMany read several keys, loading the missing ones in one
	// call of the source.
	GetOrLoadMany
	// Load is a loader's read of the source: its start is the moment it
	// read, its versions what it read. It is no cache call; it explains
	// where a stale value came from.
	Load
)

var kindNames = [...]string{"set", "delete", "purge", "get", "getorload", "getorloadmany", "load"}

// String returns the kind's name, as the report prints it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// IsWrite reports whether the kind changes the source: its versions are
// the ones it made.
func (k Kind) IsWrite() bool { return k == Set || k == Delete || k == Purge }

// IsRead reports whether the kind is a cache call that returns values:
// its versions are the ones it returned.
func (k Kind) IsRead() bool { return k == Get || k == GetOrLoad || k == GetOrLoadMany }

// Op is one operation of a history.
type Op struct {
	ID       int
	Instance int      // which instance ran it
	Kind     Kind     //
	Keys     []string // the keys it wrote or read (a purge: the tag's keys)
	Tag      string   // the tag of a Purge
	Start    time.Time
	End      time.Time
	// Versions are, for a write, the version it made of each key; for a
	// read, the version it returned for each key that was a hit (a key
	// absent here was a miss); for a Load, what the loader read.
	Versions map[string]int64
	Err      error // nil: acknowledged (a write) or answered (a read)
	// Unproven is set for a read whose hitbox.Answer said its value was
	// a copy the cache could not prove current (stale-if-error in a bus
	// gap): the cache declared it may be stale.
	Unproven bool
}

// Duration is how long the call took.
func (o Op) Duration() time.Duration { return o.End.Sub(o.Start) }

// History records operations from many goroutines. The zero value is
// ready to use.
type History struct {
	mu  sync.Mutex
	ops []Op
}

// Add records o, giving it the next ID, and returns that ID.
func (h *History) Add(o Op) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	o.ID = len(h.ops)
	h.ops = append(h.ops, o)
	return o.ID
}

// Ops returns a copy of the operations recorded so far, ordered by start.
func (h *History) Ops() []Op {
	h.mu.Lock()
	ops := slices.Clone(h.ops)
	h.mu.Unlock()
	slices.SortStableFunc(ops, func(a, b Op) int { return a.Start.Compare(b.Start) })
	return ops
}
