package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/leasetoken"
)

var _ hitbox.Leaser = (*Store)(nil)

// A lease lives in the key it is on, as memcache's do, so it needs no
// second key (which a cluster would put on another slot) and every change
// to the key ends it for free: Set, Delete, Clear and the rest overwrite
// or remove the key, and the lease with it.
//
// A leased key's value starts with a lease's head:
//
//	[0]     0xFF, the mark of every stored value
//	[1]     3, the format version of a lease
//	[2:10]  the lease's nonce, 8 random bytes
//	[10:]   the entry, in its own stored form, or nothing: a placeholder
//
// Lease puts a placeholder in an absent key, living leaseLife; over an
// entry (a stale one being refreshed, say) it puts the head before the
// entry, which still reads as before, and keeps the key at least
// leaseLife; over a head it changes nothing, so concurrent loads share the
// nonce. SetLeased writes its entry, with the same head before it, only
// while the key still starts with the lease's head: so a store ends none
// of the key's leases, and any other write ends them all. Every read
// skips the head, and reads a placeholder as a miss.
//
// A lease's tags are checked by version, as SetTagged's are: Lease reads
// (or creates) each tag's version, and SetLeased writes the entry with
// those versions, so a purge in between leaves the entry a miss, and
// reports the lease lost when a version changed.
const (
	versionLease = 3
	leaseHead    = 2 + 8
	// leaseLife is how long a placeholder lives, and the least a leased
	// entry's key is kept: twice the longest a load commonly runs (a
	// 30-second timeout), and no shorter than the minute hitbox.Leaser
	// promises.
	leaseLife = 2 * time.Minute
)

// errPlaceholder is decode's answer for a lease's placeholder: a miss.
var errPlaceholder = errors.New("redisstore: a lease's placeholder")

// unlease returns what follows a lease's head in a stored value, and
// whether it has one.
func unlease(raw []byte) ([]byte, bool) {
	if len(raw) >= leaseHead && raw[0] == mark && raw[1] == versionLease {
		return raw[leaseHead:], true
	}
	return raw, false
}

// leaseScript takes a lease on KEYS[1] with the head ARGV[1] and returns
// the head in force: ARGV[1], or the one already there. ARGV[2] is
// leaseLife in milliseconds.
var leaseScript = redis.NewScript(`
local k = KEYS[1]
local life = tonumber(ARGV[2])
local head = redis.call('GETRANGE', k, 0, 9)
if #head == 10 and string.byte(head, 1) == 255 and string.byte(head, 2) == 3 then
  local ttl = redis.call('PTTL', k)
  if ttl >= 0 and ttl < life then redis.call('PEXPIRE', k, life) end
  return head
end
if #head == 0 then
  redis.call('SET', k, ARGV[1], 'PX', life)
  return ARGV[1]
end
local v = redis.call('GET', k)
local ttl = redis.call('PTTL', k)
if ttl >= 0 and ttl < life then
  redis.call('SET', k, ARGV[1] .. v, 'PX', life)
elseif ttl >= 0 then
  redis.call('SET', k, ARGV[1] .. v, 'KEEPTTL')
else
  redis.call('SET', k, ARGV[1] .. v)
end
return ARGV[1]
`)

// setLeasedScript writes ARGV[2] (which starts with the lease's head) to
// KEYS[1] with a lifetime of ARGV[3] milliseconds (0: none) if the key
// still starts with the head ARGV[1]; it returns 1 when it wrote, 0 when
// the lease was lost.
var setLeasedScript = redis.NewScript(`
if redis.call('GETRANGE', KEYS[1], 0, 9) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// Lease takes a lease on key for a load whose entry will carry tags, in
// one round trip: a script on the key (see the format above), pipelined
// with the reads of the tags' versions (each created when missing, so a
// purge of a tag never used before still ends the lease). The token is
// the lease's head and each tag's name and version. A read during the lease answers as
// before it: a miss for an absent key, the entry for a present one. The
// write is seen by Redis tracking as a change of the key.
func (s *Store) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	var head [leaseHead]byte
	head[0], head[1] = mark, versionLease
	binary.BigEndian.PutUint64(head[2:], rand.Uint64())
	life := leaseLife.Milliseconds()
	vcmds, tv := s.versionCmds(ctx, tags, life)
	// A lease is bookkeeping, not a change: it does not wait for replicas.
	// A failover that loses it loses nothing a read could return: the
	// promoted replica lacks the lease's head, so SetLeased finds the
	// lease lost and stores nothing.
	cmd, err, _ := s.eval(ctx, leaseScript, s.opt.Prefix+key, []any{head[:], life}, vcmds, false)
	if err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, cause(ctx, err))
	}
	got, err := cmd.Text()
	if err != nil || len(got) != leaseHead {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, errors.New("unexpected reply to the lease script"))
	}
	if err := s.readVersions(ctx, vcmds, tv, life); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	size := leaseHead
	for _, t := range tags {
		size += leasetoken.Size(t)
	}
	tok := make([]byte, 0, size)
	tok = append(tok, got...)
	for _, v := range tv {
		tok = leasetoken.Append(tok, v.tag, binary.BigEndian.Uint64([]byte(v.ver)))
	}
	return hitbox.Lease{Token: string(tok)}, nil
}

// SetLeased stores e under key with tags, as SetTagged does, if the key
// still holds the lease l (no write to the key since) and the version of
// no tag both l and tags name changed since l was taken; otherwise it
// stores nothing and returns an error wrapping hitbox.ErrLeaseLost. A
// lease also lapses with its placeholder, after two minutes. When l names
// every one of tags it is one round trip: a script that compares the
// key's head and writes, pipelined with the version reads SetTagged makes
// (the entry is written with the versions of the lease, so a purge that
// lands meanwhile leaves it a miss, and is reported as a lost lease). A
// tag l does not name costs one round trip more, first, to read its
// current version, which the entry is written with; a purge of it after
// that read, even one before the write, then refuses the store. An entry
// already past its Expire leaves the placeholder, which reads as a miss.
// A zero l is SetTagged.
func (s *Store) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if !l.Valid() {
		return s.SetTagged(ctx, key, e, tags)
	}
	if len(e.Value) > s.opt.MaxValueSize {
		return s.fail(hitbox.OpSet, &hitbox.SizeError{Size: len(e.Value), Limit: s.opt.MaxValueSize})
	}
	tok := l.Token
	if len(tok) < leaseHead || tok[0] != mark || tok[1] != versionLease {
		return s.fail(hitbox.OpSet, leasetoken.ErrMalformed)
	}
	head := tok[:leaseHead]
	named, err := leasetoken.Parse(nil, tok[leaseHead:])
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	e, ms, expired := s.lifetime(e)
	// The versions the entry is written with: the lease's, and for a tag
	// it did not name, the current one, read first.
	leased := make([]tagVersion, len(tags))
	var unnamed []string
	for i, t := range tags {
		leased[i].tag = t
		if v, ok := leasetoken.Lookup(named, t); ok {
			leased[i].ver = string(binary.BigEndian.AppendUint64(nil, v))
		} else {
			unnamed = append(unnamed, t)
		}
	}
	if len(unnamed) > 0 && !expired {
		cur, err := s.useVersions(ctx, unnamed, ms)
		if err != nil {
			return s.fail(hitbox.OpSet, err)
		}
		for i, j := 0, 0; i < len(leased); i++ {
			if leased[i].ver == "" {
				leased[i].ver = cur[j].ver
				j++
			}
		}
	}
	buf := s.buffer()
	*buf = append(*buf, head...)
	switch {
	case expired:
		ms = leaseLife.Milliseconds() // the placeholder alone
	case len(tags) == 0:
		*buf = appendValue(*buf, e.Expire, e.Stale, e.Value)
	default:
		*buf = appendTaggedValue(*buf, e.Expire, e.Stale, leased, e.Value)
	}
	var vcmds []redis.Cmder
	var cur []tagVersion
	if !expired {
		vcmds, cur = s.versionCmds(ctx, tags, ms)
	}
	cmd, err, acked := s.eval(ctx, setLeasedScript, s.opt.Prefix+key, []any{head, *buf, strconv.FormatInt(ms, 10)}, vcmds, true)
	s.release(buf)
	if err != nil {
		return s.fail(hitbox.OpSet, cause(ctx, err))
	}
	if n, err := cmd.Int(); err != nil || n != 1 {
		return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
	}
	if len(vcmds) > 0 {
		// A version key's lengthened lifetime (readVersions) does not
		// wait for replicas: losing it only makes the entry a miss early.
		if err := s.readVersions(ctx, vcmds, cur, ms); err != nil {
			return s.fail(hitbox.OpSet, err)
		}
		for i := range cur {
			if cur[i].ver != leased[i].ver {
				// Written, but with a version a purge removed: a miss.
				return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
			}
		}
	}
	if acked != nil {
		return s.fail(hitbox.OpSet, cause(ctx, acked))
	}
	return nil
}

// eval runs script on the stored key k with args, pipelined with extra
// commands: one round trip (EVALSHA), and a second only when the server
// does not hold the script yet (EVAL, which loads it). When durable (a
// change, not a lease) it waits for replicas as every change does, and
// returns the WAIT's verdict apart, as write does.
func (s *Store) eval(ctx context.Context, script *redis.Script, k string, args []any, extra []redis.Cmder, durable bool) (cmd *redis.Cmd, err, acked error) {
	cmd = redis.NewCmd(ctx, append([]any{"evalsha", script.Hash(), 1, k}, args...)...)
	cmds := append([]redis.Cmder{cmd}, extra...)
	if durable {
		_, acked = s.write(ctx, cmds) // each command's own error is looked at
	} else {
		_ = s.exec(ctx, cmds)
	}
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if !durable || s.wait == nil {
			cmd = script.Eval(ctx, s.rdb, []string{k}, args...)
			return cmd, cmd.Err(), nil
		}
		// Nothing ran: load the script, then send the change again, with
		// its WAIT.
		if err := script.Load(ctx, s.wait.rdb).Err(); err != nil {
			return cmd, err, nil
		}
		cmd = redis.NewCmd(ctx, append([]any{"evalsha", script.Hash(), 1, k}, args...)...)
		_, acked = s.write(ctx, []redis.Cmder{cmd})
	}
	return cmd, cmd.Err(), acked
}
