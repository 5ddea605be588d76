package mapstore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
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
	// NoLeases makes Lease hand out the zero Lease, so the store acts as
	// one without the ability (SetLeased then stores unconditionally):
	// for tests of what protects a load's store without leases.
	NoLeases bool
	// NoStamps makes Stamp always report a change under way, so a front
	// over the store reads it on every hit, as over a store without the
	// ability: for tests of that path.
	NoStamps bool
}

// Store is an in-memory hitbox.Backend with every optional ability. It is
// safe for concurrent use.
type Store struct {
	label string
	now   func() time.Time

	mu     sync.Mutex
	m      map[string]hitbox.Entry
	tagged map[string][]tagVersion // key -> its tags with their versions when written
	vers   map[string]uint64       // tag -> its current version
	leases map[string]uint64       // key -> the nonce its outstanding leases share
	closed bool
	// changes counts every change: each key's stamp (Stamp).
	changes uint64

	noLeases bool
	noStamps bool
	taken    int // leases handed out, for tests of what leases cost
}

// tagVersion is one tag of an entry and the tag's version when the entry
// was written; the entry is live while every version is still current.
type tagVersion struct {
	tag string
	ver uint64
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Label == "" {
		opts.Label = "map"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{
		label:    opts.Label,
		now:      opts.Now,
		noLeases: opts.NoLeases,
		noStamps: opts.NoStamps,
		m:        make(map[string]hitbox.Entry),
		tagged:   make(map[string][]tagVersion),
		vers:     make(map[string]uint64),
		leases:   make(map[string]uint64),
	}
}

// HeedsSource is false: a store's reads are the same with or without
// hitbox.WithSource (see hitbox.SourceHeeder).
func (s *Store) HeedsSource() bool { return false }

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
	s.deleteLocked(key)
	return nil
}

// Remove deletes key and reports whether it held a live entry.
func (s *Store) Remove(ctx context.Context, key string) (bool, error) {
	if err := s.check(ctx, hitbox.OpRemove, key); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, s.fail(hitbox.OpRemove, hitbox.ErrClosed)
	}
	_, err := s.getLocked(key, s.now())
	s.deleteLocked(key)
	return err == nil, nil
}

// GetMany returns one Result per key, in order; misses are per Result, and
// a tagged hit carries its tags in Result.Tags. An empty key fails the
// whole batch with hitbox.ErrInvalidKey.
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
		if out[i].Err == nil {
			out[i].Tags = s.tagsLocked(k)
		}
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
		s.deleteLocked(k)
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
	clear(s.tagged)
	clear(s.leases)
	s.changes++
	return nil
}

// ClearPrefix removes every key that starts with prefix. An empty prefix is
// refused with hitbox.ErrInvalidKey.
func (s *Store) ClearPrefix(ctx context.Context, prefix string) error {
	if err := s.check(ctx, hitbox.OpClearPrefix, prefix); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpClearPrefix, hitbox.ErrClosed)
	}
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			s.deleteLocked(k)
		}
	}
	for k := range s.leases {
		if strings.HasPrefix(k, prefix) {
			delete(s.leases, k)
		}
	}
	return nil
}

// Close drops every entry; later operations fail with hitbox.ErrClosed.
// Closing again does nothing and returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.m, s.tagged, s.vers, s.leases = nil, nil, nil, nil
	return nil
}

// Len returns the number of live entries at the store's Now, so a test can
// check that nothing was left behind.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for k, e := range s.m {
		if e.StateAt(now) != hitbox.Expired && s.tagsCurrentLocked(k) {
			n++
		}
	}
	return n
}

// Stamp returns the store's count of changes as every key's stamp
// (hitbox.Stamper): any change moves them all, which the contract allows.
// It is not ok on a closed store, or ever with Options.NoStamps.
func (s *Store) Stamp(string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes, !s.closed && !s.noStamps
}

// Hit does nothing: the store keeps no record of its reads.
func (s *Store) Hit(string) {}

// Basic returns a view of s with only Get, Set, Delete and Label (and Len,
// which is no ability), so the hitbox helpers take their fallback paths.
func (s *Store) Basic() *Basic { return &Basic{s: s} }

func (s *Store) getLocked(key string, now time.Time) (hitbox.Entry, error) {
	e, ok := s.m[key]
	if !ok {
		return hitbox.Entry{}, s.fail(hitbox.OpGet, hitbox.ErrMiss)
	}
	if e.StateAt(now) == hitbox.Expired || !s.tagsCurrentLocked(key) {
		// Dropping a dead entry is no change: the key's leases hold.
		delete(s.m, key)
		delete(s.tagged, key)
		return hitbox.Entry{}, s.fail(hitbox.OpGet, hitbox.ErrMiss)
	}
	e.Value = bytes.Clone(e.Value)
	return e, nil
}

// setLocked stores e under key and ends the key's leases, as every change
// does.
func (s *Store) setLocked(key string, e hitbox.Entry, now time.Time) {
	s.changes++
	delete(s.leases, key)
	delete(s.tagged, key)
	if e.StateAt(now) == hitbox.Expired {
		delete(s.m, key)
		return
	}
	e.Value = append([]byte{}, e.Value...) // never nil, so a 0 B value stays a value
	s.m[key] = e
}

// deleteLocked removes key and ends its leases.
func (s *Store) deleteLocked(key string) {
	s.changes++
	delete(s.leases, key)
	delete(s.m, key)
	delete(s.tagged, key)
}

// tagsCurrentLocked reports whether every tag key was written with is
// still at the version it had then.
func (s *Store) tagsCurrentLocked(key string) bool {
	for _, tv := range s.tagged[key] {
		if v, ok := s.vers[tv.tag]; !ok || v != tv.ver {
			return false
		}
	}
	return true
}

// SetTagged stores a copy of e under key with tags.
func (s *Store) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if err := s.check(ctx, hitbox.OpSet, key); err != nil {
		return err
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	s.setTaggedLocked(key, e, tags, s.now())
	return nil
}

// setTaggedLocked stores e under key with tags at their current versions,
// drawing one for a tag without, and ends the key's leases.
func (s *Store) setTaggedLocked(key string, e hitbox.Entry, tags []string, now time.Time) {
	s.setLocked(key, e, now)
	if len(tags) == 0 || e.StateAt(now) == hitbox.Expired {
		return
	}
	tv := make([]tagVersion, len(tags))
	for i, t := range tags {
		tv[i] = tagVersion{t, s.useLocked(t)}
	}
	s.tagged[key] = tv
}

// useLocked returns tag's version, drawing a random one when it has none.
func (s *Store) useLocked(tag string) uint64 {
	v, ok := s.vers[tag]
	if !ok {
		v = rand.Uint64()
		s.vers[tag] = v
	}
	return v
}

// GetTagged is Get that also returns the entry's tags.
func (s *Store) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if err := s.check(ctx, hitbox.OpGet, key); err != nil {
		return hitbox.Entry{}, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, hitbox.ErrClosed)
	}
	e, err := s.getLocked(key, s.now())
	if err != nil {
		return e, nil, err
	}
	return e, s.tagsLocked(key), nil
}

// tagsLocked returns the tags key was written with, nil for none.
func (s *Store) tagsLocked(key string) []string {
	var tags []string
	for _, tv := range s.tagged[key] {
		tags = append(tags, tv.tag)
	}
	return tags
}

// InvalidateTags gives each tag a new random version, so every entry
// written with an older one reads as a miss. It costs O(1) per tag.
func (s *Store) InvalidateTags(ctx context.Context, tags ...string) error {
	if err := ctx.Err(); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	if err := hitbox.CheckTagList(tags); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpInvalidateTags, hitbox.ErrClosed)
	}
	for _, t := range tags {
		s.vers[t] = rand.Uint64()
	}
	s.changes++
	return nil
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
