package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// tagSpace starts, after the store's Prefix, the key of every tag's
// version: Prefix+tagSpace+tag. The store refuses keys that start with it
// (with hitbox.ErrInvalidKey), so no entry can ever take a version's key,
// and ClearPrefix leaves version keys alone; Clear removes them with
// everything else under the Prefix.
const tagSpace = "\x00tags\x00"

// versionSlack is how much longer than the entry that uses it a version
// key is kept: a version must outlive every entry carrying it, or the
// entries read as misses early.
const versionSlack = time.Minute

var _ hitbox.Tagger = (*Store)(nil)

// versionKey returns the stored key of tag's version.
func (s *Store) versionKey(tag string) string { return s.opt.Prefix + tagSpace + tag }

// checkKey refuses the empty key and keys in the versions' space.
func checkKey(key string) error {
	if err := hitbox.CheckKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, tagSpace) {
		return fmt.Errorf("%w: a key starting with %q is kept for tag versions", hitbox.ErrInvalidKey, tagSpace)
	}
	return nil
}

// SetTagged stores e under key like Set, with tags: the entry reads as a
// miss once any of them is invalidated. It costs two round trips (a third
// when a version's lifetime must be lengthened, see useVersions): one
// pipeline that reads each tag's version (creating a random one where there
// is none: SET NX GET, per tag, each on its own key, so a cluster routes it
// to the tag's slot), then the entry's SET with the versions in its header.
// Each version key lives at least versionSlack (a minute) longer than the
// longest-lived entry that carries it, and forever when one has no Expire
// (see useVersions). Tags over the limits of hitbox.CheckTags are refused
// with an error wrapping hitbox.ErrInvalidTag. It needs Redis 7.0 (SET NX
// GET, PEXPIRE GT).
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
	if len(e.Value) > s.opt.MaxValueSize {
		return s.fail(hitbox.OpSet, &hitbox.SizeError{Size: len(e.Value), Limit: s.opt.MaxValueSize})
	}
	k := s.opt.Prefix + key
	e, ms, expired := s.lifetime(e)
	if expired {
		if err := s.unlink(ctx, k); err != nil {
			return s.fail(hitbox.OpSet, cause(ctx, err))
		}
		return nil
	}
	// The versions are read before the entry is written: a purge in
	// between leaves the entry with a version that is gone, so it is a
	// miss, never a survivor.
	tv, err := s.useVersions(ctx, tags, ms)
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	buf := s.buffer()
	*buf = appendTaggedValue(*buf, e.Expire, e.Stale, tv, e.Value)
	var cmd redis.Cmder
	if ms == 0 {
		cmd = redis.NewStatusCmd(ctx, "set", k, *buf)
	} else {
		cmd = redis.NewStatusCmd(ctx, "set", k, *buf, "px", ms)
	}
	// With Options.WaitReplicas the SET's WAIT covers the version keys
	// too: it waits for the master's replication offset after the SET,
	// past every write made before it.
	err = s.change(ctx, cmd)
	s.release(buf)
	if err != nil {
		return s.fail(hitbox.OpSet, cause(ctx, err))
	}
	return nil
}

// useVersions returns the current version of each tag, creating a random
// one for a tag without, in one pipeline; ms is the entry's lifetime in
// Redis (0: none), which each version key must outlive.
//
// A version key's lifetime is changed only when it would not outlive the
// entry, and then to twice what is needed, so that most writes leave it
// alone: every change of a version key is reported by Redis tracking,
// which a TrackingBus delivers as a purge of the tag. Those rare changes
// cost a second round trip.
func (s *Store) useVersions(ctx context.Context, tags []string, ms int64) ([]tagVersion, error) {
	cmds, tv := s.versionCmds(ctx, tags, ms)
	_ = s.exec(ctx, cmds) // each command's own error is looked at below
	if err := s.readVersions(ctx, cmds, tv, ms); err != nil {
		return nil, err
	}
	return tv, nil
}

// versionCmds returns the commands of useVersions, for a caller that
// sends them in a pipeline of its own, and the versions they propose.
func (s *Store) versionCmds(ctx context.Context, tags []string, ms int64) ([]redis.Cmder, []tagVersion) {
	need := ms + versionSlack.Milliseconds()
	cmds := make([]redis.Cmder, 0, 2*len(tags))
	tv := make([]tagVersion, len(tags))
	for i, t := range tags {
		vk := s.versionKey(t)
		var b [versionLen]byte
		binary.BigEndian.PutUint64(b[:], rand.Uint64())
		tv[i] = tagVersion{tag: t, ver: string(b[:])}
		if ms > 0 {
			cmds = append(cmds, redis.NewStringCmd(ctx, "set", vk, tv[i].ver, "nx", "get", "px", 2*need))
		} else {
			cmds = append(cmds, redis.NewStringCmd(ctx, "set", vk, tv[i].ver, "nx", "get"))
		}
		cmds = append(cmds, redis.NewDurationCmd(ctx, time.Millisecond, "pttl", vk))
	}
	return cmds, tv
}

// readVersions reads the replies of versionCmds into tv, once they have
// run, and lengthens the lifetimes that need it (a second round trip).
func (s *Store) readVersions(ctx context.Context, cmds []redis.Cmder, tv []tagVersion, ms int64) error {
	need := ms + versionSlack.Milliseconds()
	var fix []redis.Cmder
	for i := range tv {
		get := cmds[2*i].(*redis.StringCmd)
		switch err := get.Err(); {
		case errors.Is(err, redis.Nil): // there was none: ours is set
		case err != nil:
			return cause(ctx, err)
		case len(get.Val()) != versionLen:
			return fmt.Errorf("%w: the version key of tag %q holds %d bytes, not a version", hitbox.ErrCorrupt, tv[i].tag, len(get.Val()))
		default:
			tv[i].ver = get.Val()
		}
		ttl, err := cmds[2*i+1].(*redis.DurationCmd).Result()
		if err != nil {
			return cause(ctx, err)
		}
		// PTTL is -1 (as a Duration, -1ns) for a key without a lifetime
		// and -2 for one that is gone (evicted since): nothing to fix.
		vk := s.versionKey(tv[i].tag)
		switch {
		case ms > 0 && ttl >= 0 && ttl.Milliseconds() < need:
			fix = append(fix, redis.NewIntCmd(ctx, "pexpire", vk, 2*need, "gt"))
		case ms == 0 && ttl >= 0:
			fix = append(fix, redis.NewIntCmd(ctx, "persist", vk))
		}
	}
	if len(fix) > 0 {
		if err := s.exec(ctx, fix); err != nil {
			return cause(ctx, err)
		}
	}
	return nil
}

// readScript reads an entry and, when it is tagged, its tags' versions, in
// one round trip on one server. It declares the one key it knows before
// it runs, the entry's; the version keys it reads are named inside the
// entry, so they cannot be declared, which only a single server (not a
// cluster, nor a ring's other shards) allows. An untagged entry, or a
// reply it cannot parse, comes back as the plain value; a tagged one as
// the value followed by each tag's current version (false when gone), in
// the entry's order, compared by the caller. A damaged tag section stops
// the parse early: the caller's decode refuses it anyway. An entry a
// lease's head precedes (see lease.go) is read past the head.
var readScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return v end
local o = 0
if #v >= 10 and string.byte(v, 1) == 255 and string.byte(v, 2) == 3 then o = 10 end
if #v < o + 28 or string.byte(v, o + 2) ~= 2 then return v end
local out = {v}
local n = string.byte(v, o + 27) * 256 + string.byte(v, o + 28)
if n > 64 then return v end
local i = o + 29
for _ = 1, n do
  if #v < i + 1 then break end
  local l = string.byte(v, i) * 256 + string.byte(v, i + 1)
  if l == 0 or #v < i + 1 + l then break end
  out[#out + 1] = redis.call('GET', ARGV[1] .. string.sub(v, i + 2, i + 1 + l))
  i = i + 2 + l + 8
end
return out
`)

// getScripted reads the stored key k with readScript: the raw value, and
// for a tagged entry the current versions of its tags (nil when gone).
func (s *Store) getScripted(ctx context.Context, k string) (raw []byte, vers []any, err error) {
	v, err := readScript.Run(ctx, s.rdb, []string{k}, s.opt.Prefix+tagSpace).Result()
	if err != nil {
		return nil, nil, err
	}
	switch v := v.(type) {
	case string:
		return unsafe.Slice(unsafe.StringData(v), len(v)), nil, nil
	case []any:
		if str, ok := v[0].(string); ok {
			return unsafe.Slice(unsafe.StringData(str), len(str)), v[1:], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: unexpected reply %T to the read script", hitbox.ErrCorrupt, v)
}

// sameVersions reports whether vers, as readScript returns them, are the
// versions of a checked tag section.
func sameVersions(sect []byte, vers []any) bool {
	i, ok := 0, true
	eachTag(sect, func(_, ver []byte) {
		if i >= len(vers) {
			ok = false
			return
		}
		if v, isStr := vers[i].(string); !isStr || v != string(ver) {
			ok = false
		}
		i++
	})
	return ok && i == len(vers)
}

// GetTagged is Get that also returns the tags the entry was written with,
// nil for one written by Set.
func (s *Store) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, err)
	}
	e, sect, err := s.get(ctx, key)
	if err != nil || sect == nil {
		return e, nil, err
	}
	return e, tagNames(sect), nil
}

// tagNames returns the tags of a checked tag section.
func tagNames(sect []byte) []string {
	var out []string
	eachTag(sect, func(tag, _ []byte) { out = append(out, string(tag)) })
	return out
}

// InvalidateTags makes every entry carrying one of tags a miss by removing
// the tags' version keys, in one pipelined round trip (one UNLINK per
// server; per hash slot on a cluster, per key on a ring): O(1) per tag,
// whatever the number of entries. Removing a version is what drawing a new
// one would be, since an entry whose version key is gone or different is a
// miss alike, and it leaves nothing behind for tags never used again. The
// entries stay in Redis until a read finds them stale and removes them,
// or they expire.
func (s *Store) InvalidateTags(ctx context.Context, tags ...string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	if len(tags) == 0 {
		return nil
	}
	if err := hitbox.CheckTagList(tags); err != nil {
		return s.fail(hitbox.OpInvalidateTags, err)
	}
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = s.versionKey(t)
	}
	if err := s.change(ctx, unlinkCmds(ctx, s.split(keys))...); err != nil {
		return s.fail(hitbox.OpInvalidateTags, cause(ctx, err))
	}
	return nil
}

// check is one tag section's versions to compare: the positions of its
// version keys in the list liveMany reads, and the versions written.
type check struct {
	keys []int
	vers []string
}

// liveMany reports, for each tag section, whether every version in it is
// still current: one round trip for all of them (MGET per server, per
// slot on a cluster, per key on a ring). It fails when a version could not
// be read: an entry whose tags cannot be checked is not served.
func (s *Store) liveMany(ctx context.Context, sects [][]byte) ([]bool, error) {
	idx := make(map[string]int)
	var keys []string
	checks := make([]check, len(sects))
	for i, sect := range sects {
		eachTag(sect, func(tag, ver []byte) {
			k := s.opt.Prefix + tagSpace + string(tag)
			j, ok := idx[k]
			if !ok {
				j = len(keys)
				idx[k] = j
				keys = append(keys, k)
			}
			checks[i].keys = append(checks[i].keys, j)
			checks[i].vers = append(checks[i].vers, string(ver))
		})
	}
	cur, err := s.mget(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(sects))
	for i, c := range checks {
		out[i] = true
		for n, j := range c.keys {
			if v, ok := cur[j].(string); !ok || v != c.vers[n] {
				out[i] = false
				break
			}
		}
	}
	return out, nil
}

// mget reads stored keys in one round trip: nil for an absent key (or one
// holding another type), its string otherwise.
func (s *Store) mget(ctx context.Context, keys []string) ([]any, error) {
	gs := s.split(keys)
	cmds := make([]redis.Cmder, len(gs))
	for g := range gs {
		args := make([]any, 1+len(gs[g].keys))
		args[0] = "mget"
		for j, k := range gs[g].keys {
			args[1+j] = k
		}
		cmds[g] = redis.NewSliceCmd(ctx, args...)
	}
	if err := s.exec(ctx, cmds); err != nil {
		return nil, cause(ctx, err)
	}
	out := make([]any, len(keys))
	for g, c := range cmds {
		vals := c.(*redis.SliceCmd).Val()
		for j, p := range gs[g].pos {
			if j < len(vals) {
				out[p] = vals[j]
			}
		}
	}
	return out, nil
}
