package consistency

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Value is what the cache holds for a key: the key, so a value read under
// another key shows, and the version of the source it was made from.
type Value struct {
	Key     string `json:"k"`
	Version int64  `json:"v"`
}

// Source is the source of truth behind the cache: a version per key,
// raised by every write, and a fixed set of tags per key. Writes of one
// key hold the key's lock from the source's change to the end of the
// cache call (see Lock), so they are ordered.
type Source struct {
	keys    []string
	tagsOf  map[string][]string
	keysOf  map[string][]string
	locks   map[string]*sync.Mutex
	maxLoad time.Duration

	mu       sync.Mutex
	versions map[string]int64
}

// NewSource returns a source of nkeys keys ("k0", "k1", ...) and ntags tags
// ("t0", ...): key i carries tags i mod ntags and (i+1) mod ntags, so each
// tag covers about 2*nkeys/ntags keys and keys share tags. Every version
// starts at 0. Its loaders take a random time up to maxLoad after reading.
func NewSource(nkeys, ntags int, maxLoad time.Duration) *Source {
	s := &Source{
		tagsOf:   make(map[string][]string),
		keysOf:   make(map[string][]string),
		locks:    make(map[string]*sync.Mutex),
		versions: make(map[string]int64),
		maxLoad:  maxLoad,
	}
	for i := range nkeys {
		k := fmt.Sprintf("k%d", i)
		s.keys = append(s.keys, k)
		s.locks[k] = new(sync.Mutex)
		for _, j := range []int{i % ntags, (i + 1) % ntags} {
			tag := fmt.Sprintf("t%d", j)
			if !slices.Contains(s.tagsOf[k], tag) {
				s.tagsOf[k] = append(s.tagsOf[k], tag)
				s.keysOf[tag] = append(s.keysOf[tag], k)
			}
		}
	}
	return s
}

// Keys returns the key space.
func (s *Source) Keys() []string { return s.keys }

// Tags returns every tag, sorted.
func (s *Source) Tags() []string {
	var tags []string
	for t := range s.keysOf {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return tags
}

// TagsOf returns the tags key carries.
func (s *Source) TagsOf(key string) []string { return s.tagsOf[key] }

// KeysOf returns the keys carrying tag, in key order.
func (s *Source) KeysOf(tag string) []string { return s.keysOf[tag] }

// Lock takes the write locks of keys, in a fixed order, and returns the
// function that releases them.
func (s *Source) Lock(keys []string) (unlock func()) {
	sorted := slices.Sorted(slices.Values(keys))
	for _, k := range sorted {
		s.locks[k].Lock()
	}
	return func() {
		for _, k := range slices.Backward(sorted) {
			s.locks[k].Unlock()
		}
	}
}

// Bump raises the version of each key and returns the new versions. The
// caller holds the keys' locks.
func (s *Source) Bump(keys ...string) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		s.versions[k]++
		out[k] = s.versions[k]
	}
	return out
}

// Read returns the current version of each key.
func (s *Source) Read(keys ...string) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		out[k] = s.versions[k]
	}
	return out
}

// Load returns the values of keys as a loader would: it reads the source
// at once, then waits a random time up to the source's maxLoad, or until
// ctx ends, before answering. It records the load in h (instance in): its
// start is when it read the source, its end when it answered.
func (s *Source) Load(ctx context.Context, h *History, in int, keys ...string) (map[string]Value, error) {
	op := Op{Instance: in, Kind: Load, Keys: slices.Clone(keys), Start: time.Now()}
	op.Versions = s.Read(keys...)
	read := op.Versions
	defer func() {
		op.End = time.Now()
		h.Add(op)
	}()
	if s.maxLoad > 0 {
		t := time.NewTimer(rand.N(s.maxLoad))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make(map[string]Value, len(keys))
	for k, v := range read {
		out[k] = Value{Key: k, Version: v}
	}
	return out, nil
}
