package memstore

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"unsafe"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
)

var _ hitbox.Tagger = (*Store)(nil)

// versions is the store's table of current tag versions: a random uint64
// per tag, drawn when a tag is first used. An entry keeps the versions its
// tags had when it was written and is live while every one is still in the
// table unchanged. Purging a tag removes its version, and so does eviction
// when the table is full: either way the entries carrying the old version
// read as misses, and the next write of the tag draws a new one. The table
// is split into independently locked shards, each holding at most max
// tags.
type versions struct {
	seed   maphash.Seed
	mask   uint64
	max    int
	shards []versionShard
}

type versionShard struct {
	mu sync.RWMutex
	m  map[string]uint64
	_  [32]byte // keeps neighbouring shards' locks off one cache line
}

func newVersions(shards, maxTags int) *versions {
	v := &versions{
		seed:   maphash.MakeSeed(),
		mask:   uint64(shards - 1),
		max:    max(1, maxTags/shards),
		shards: make([]versionShard, shards),
	}
	for i := range v.shards {
		v.shards[i].m = make(map[string]uint64)
	}
	return v
}

func (v *versions) shard(h uint64) *versionShard { return &v.shards[h&v.mask] }

// current returns tag's version, or false when the table holds none.
func (v *versions) current(tag []byte) (uint64, bool) {
	sh := v.shard(maphash.Bytes(v.seed, tag))
	sh.mu.RLock()
	ver, ok := sh.m[string(tag)] // no allocation: the compiler looks up the bytes
	sh.mu.RUnlock()
	return ver, ok
}

// use returns tag's version, drawing a random one when the table holds
// none; a full shard first forgets one of its tags (Go's map order picks
// which), whose entries then read as misses.
func (v *versions) use(tag string) uint64 {
	sh := v.shard(maphash.String(v.seed, tag))
	sh.mu.RLock()
	ver, ok := sh.m[tag]
	sh.mu.RUnlock()
	if ok {
		return ver
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if ver, ok := sh.m[tag]; ok {
		return ver
	}
	if len(sh.m) >= v.max {
		for t := range sh.m {
			delete(sh.m, t)
			break
		}
	}
	ver = rand.Uint64()
	sh.m[tag] = ver
	return ver
}

// purge forgets tag's version, so every entry written with it is a miss.
func (v *versions) purge(tag string) {
	sh := v.shard(maphash.String(v.seed, tag))
	sh.mu.Lock()
	delete(sh.m, tag)
	sh.mu.Unlock()
}

// live reports whether every (tag, version) pair of a checked tag section
// is still current.
func (v *versions) live(sect []byte) bool {
	n := int(binary.LittleEndian.Uint16(sect))
	i := 2
	for range n {
		l := int(binary.LittleEndian.Uint16(sect[i:]))
		cur, ok := v.current(sect[i+2 : i+2+l])
		if !ok || cur != binary.LittleEndian.Uint64(sect[i+2+l:]) {
			return false
		}
		i += 2 + l + 8
	}
	return true
}

// tagNames returns the tags of a checked tag section. The strings share
// the record's bytes, which bigcache copied out for this read alone and
// nothing writes to, so the only allocation is the slice.
func tagNames(sect []byte) []string {
	n := int(binary.LittleEndian.Uint16(sect))
	out := make([]string, 0, n)
	i := 2
	for range n {
		l := int(binary.LittleEndian.Uint16(sect[i:]))
		out = append(out, unsafe.String(&sect[i+2], l))
		i += 2 + l + 8
	}
	return out
}

// SetTagged stores e under key like Set, with tags: the entry reads as a
// miss once any of them is purged by InvalidateTags (or forgotten by the
// bounded version table). Without tags it is Set. Tags over the limits of
// hitbox.CheckTags are refused with an error wrapping hitbox.ErrInvalidTag.
// The tags and their versions are kept in the record, so they count
// against the shard's room (not against MaxValueSize).
func (s *Store) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if len(tags) == 0 {
		return s.Set(ctx, key, e)
	}
	if len(e.Value) > s.maxValue {
		return s.fail(hitbox.OpSet, &hitbox.SizeError{Size: len(e.Value), Limit: s.maxValue})
	}
	if s.maxTTL > 0 {
		now := s.now()
		if !e.Expire.IsZero() && !now.Before(e.Expire) {
			if err := s.del(key); err != nil {
				return s.fail(hitbox.OpSet, err)
			}
			return nil
		}
		e = e.CapTTL(now, s.maxTTL)
	}
	// The versions are read before the record is written: a purge in
	// between leaves the record with an old version, so it is a miss.
	var buf [8]tagVersion
	tv := buf[:0]
	for _, t := range tags {
		tv = append(tv, tagVersion{t, s.vers.use(t)})
	}
	st := s.leases.change(key)
	b := bufpool.Get()
	rec := appendTaggedRecord(*b, e.Expire, e.Stale, tv, e.Value)
	h, keep := s.admit(key, len(rec))
	var err error
	if keep {
		err = s.cache.Set(key, rec)
	} else {
		err = s.remove(key)
	}
	bufpool.Put(b, rec)
	st.done()
	s.reinsert(h)
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	return nil
}

// GetTagged is Get that also returns the tags the entry was written with,
// nil for one written by Set.
func (s *Store) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, err)
	}
	e, sect, err := s.getRecord(ctx, key)
	if err != nil {
		if err == s.errMiss {
			return hitbox.Entry{}, nil, err
		}
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, err)
	}
	if sect == nil {
		return e, nil, nil
	}
	return e, tagNames(sect), nil
}

// InvalidateTags makes every entry carrying one of tags a miss, by
// forgetting each tag's version: O(1) per tag, whatever the number of
// entries. The entries' bytes stay in bigcache until a read finds them
// stale and deletes them, or eviction reaches them.
func (s *Store) InvalidateTags(ctx context.Context, tags ...string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	if err := hitbox.CheckTagList(tags); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	for _, t := range tags {
		s.vers.purge(t)
	}
	s.leases.moveAll()
	return nil
}
