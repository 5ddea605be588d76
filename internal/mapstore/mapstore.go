package mapstore

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/hitbox-go/hitbox"
)

// Options tune a Store. The zero value is a store labelled "map" on the
// wall clock.
type Options struct {
	// Label names the store in errors; "map" when empty.
	Label string
	// Now is the store's clock for Expire; time.Now when nil. Tests pass a
	// fake clock's Now so expiry needs no sleeping.
	Now func() time.Time
}

// Store is an in-memory hitbox.Backend with every optional ability. It is
// safe for concurrent use.
type Store struct {
	label string
	now   func() time.Time

	mu     sync.Mutex
	m      map[string]hitbox.Entry
	closed bool
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Label == "" {
		opts.Label = "map"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{label: opts.Label, now: opts.Now, m: make(map[string]hitbox.Entry)}
}

// Label returns the label from Options.
func (s *Store) Label() string { return s.label }

// Get returns a copy of the live entry under key, or an error wrapping
// hitbox.ErrMiss.
func (s *Store) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if err := s.check(ctx, hitbox.OpGet, key); err != nil {
		return hitbox.Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return hitbox.Entry{}, s.fail(hitbox.OpGet, hitbox.ErrClosed)
	}
	return s.getLocked(key, s.now())
}

// Set stores a copy of e under key. An entry already expired is not stored,
// and removes what was there, as any Set replaces it.
func (s *Store) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if err := s.check(ctx, hitbox.OpSet, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	s.setLocked(key, e, s.now())
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, hitbox.OpDelete, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpDelete, hitbox.ErrClosed)
	}
	delete(s.m, key)
	return nil
}

// GetMany returns one Result per key, in order; misses are per Result. An
// empty key fails the whole batch with hitbox.ErrInvalidKey.
func (s *Store) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if err := s.checkMany(ctx, hitbox.OpGetMany, keys); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, s.fail(hitbox.OpGetMany, hitbox.ErrClosed)
	}
	now := s.now()
	out := make([]hitbox.Result, len(keys))
	for i, k := range keys {
		out[i].Entry, out[i].Err = s.getLocked(k, now)
	}
	return out, nil
}

// SetMany stores every item, later items winning over earlier ones with
// the same key. An empty key fails the batch before anything is stored.
func (s *Store) SetMany(ctx context.Context, items []hitbox.Item) error {
	if err := ctx.Err(); err != nil {
		return s.fail(hitbox.OpSetMany, err)
	}
	for _, it := range items {
		if err := hitbox.CheckKey(it.Key); err != nil {
			return s.fail(hitbox.OpSetMany, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpSetMany, hitbox.ErrClosed)
	}
	now := s.now()
	for _, it := range items {
		s.setLocked(it.Key, it.Entry, now)
	}
	return nil
}

// DeleteMany removes every key. An empty key fails the batch before
// anything is removed.
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	if err := s.checkMany(ctx, hitbox.OpDeleteMany, keys); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpDeleteMany, hitbox.ErrClosed)
	}
	for _, k := range keys {
		delete(s.m, k)
	}
	return nil
}

// Clear removes every entry.
func (s *Store) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return s.fail(hitbox.OpClear, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpClear, hitbox.ErrClosed)
	}
	clear(s.m)
	return nil
}

// Close drops every entry; later operations fail with hitbox.ErrClosed.
// Closing again does nothing and returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.m = nil
	return nil
}

// Len returns the number of live entries at the store's Now, so a test can
// check that nothing was left behind.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for _, e := range s.m {
		if !e.ExpiredAt(now) {
			n++
		}
	}
	return n
}

// Basic returns a view of s with only Get, Set, Delete and Label (and Len,
// which is no ability), so the hitbox helpers take their fallback paths.
func (s *Store) Basic() *Basic { return &Basic{s: s} }

func (s *Store) getLocked(key string, now time.Time) (hitbox.Entry, error) {
	e, ok := s.m[key]
	if !ok {
		return hitbox.Entry{}, s.fail(hitbox.OpGet, hitbox.ErrMiss)
	}
	if e.ExpiredAt(now) {
		delete(s.m, key)
		return hitbox.Entry{}, s.fail(hitbox.OpGet, hitbox.ErrMiss)
	}
	e.Value = bytes.Clone(e.Value)
	return e, nil
}

func (s *Store) setLocked(key string, e hitbox.Entry, now time.Time) {
	if e.ExpiredAt(now) {
		delete(s.m, key)
		return
	}
	e.Value = append([]byte{}, e.Value...) // never nil, so a 0 B value stays a value
	s.m[key] = e
}

func (s *Store) check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return s.fail(op, err)
	}
	if err := hitbox.CheckKey(key); err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *Store) checkMany(ctx context.Context, op string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return s.fail(op, err)
	}
	for _, k := range keys {
		if err := hitbox.CheckKey(k); err != nil {
			return s.fail(op, err)
		}
	}
	return nil
}

func (s *Store) fail(op string, err error) error {
	return &hitbox.Error{Op: op, Backend: s.label, Err: err}
}

// Basic is a Store seen through the four required methods only. It shares
// the Store's entries, clock and closed state.
type Basic struct{ s *Store }

// Label returns the Store's label.
func (b *Basic) Label() string { return b.s.Label() }

// Get is Store.Get.
func (b *Basic) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	return b.s.Get(ctx, key)
}

// Set is Store.Set.
func (b *Basic) Set(ctx context.Context, key string, e hitbox.Entry) error {
	return b.s.Set(ctx, key, e)
}

// Delete is Store.Delete.
func (b *Basic) Delete(ctx context.Context, key string) error { return b.s.Delete(ctx, key) }

// Len is Store.Len.
func (b *Basic) Len() int { return b.s.Len() }
