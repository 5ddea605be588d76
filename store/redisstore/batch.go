package redisstore

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// maxKeysPerCmd bounds the keys of one MGET or UNLINK, so no single command
// holds the server for long; a longer run is cut into several commands sent
// in the same pipeline, still one round trip.
const maxKeysPerCmd = 1000

// group is a run of stored keys one multi-key command may take, with the
// position of each in the list it was cut from.
type group struct {
	keys []string
	pos  []int
}

// split cuts stored keys into groups for multi-key commands: one group for
// a single server; one per hash slot on a cluster, which refuses commands
// whose keys span slots (CROSSSLOT); one per key for other clients (a
// Ring), which route a command by its first key only. No group is longer
// than maxKeysPerCmd.
func (s *Store) split(keys []string) []group {
	var gs []group
	switch s.kind {
	case single:
		pos := make([]int, len(keys))
		for i := range pos {
			pos[i] = i
		}
		gs = []group{{keys: keys, pos: pos}}
	case cluster:
		bySlot := make(map[uint16]int)
		for i, k := range keys {
			sl := slot(k)
			g, ok := bySlot[sl]
			if !ok {
				g = len(gs)
				bySlot[sl] = g
				gs = append(gs, group{})
			}
			gs[g].keys = append(gs[g].keys, k)
			gs[g].pos = append(gs[g].pos, i)
		}
	default:
		gs = make([]group, len(keys))
		for i := range keys {
			gs[i] = group{keys: keys[i : i+1], pos: []int{i}}
		}
	}
	return chunk(gs)
}

// chunk cuts every group longer than maxKeysPerCmd.
func chunk(gs []group) []group {
	out := gs[:0:0]
	for _, g := range gs {
		for len(g.keys) > maxKeysPerCmd {
			out = append(out, group{keys: g.keys[:maxKeysPerCmd], pos: g.pos[:maxKeysPerCmd]})
			g = group{keys: g.keys[maxKeysPerCmd:], pos: g.pos[maxKeysPerCmd:]}
		}
		out = append(out, g)
	}
	return out
}

// exec sends cmds in one round trip: alone, or in a pipeline, which a
// cluster client splits by node and sends to the nodes at once. The error
// is the first command's failure; every command keeps its own.
func (s *Store) exec(ctx context.Context, cmds []redis.Cmder) error {
	if len(cmds) == 1 {
		return s.rdb.Process(ctx, cmds[0])
	}
	pipe := s.rdb.Pipeline()
	for _, c := range cmds {
		_ = pipe.Process(ctx, c) // queues only; errors come from Exec
	}
	_, err := pipe.Exec(ctx)
	return err
}

// GetMany reads keys in one round trip per server (MGET; per hash slot on
// a cluster) and returns one Result per key, in order, a tagged hit with
// its tags in Result.Tags. Misses, damaged
// entries and empty keys are reported per Result, as are the keys of a
// cluster node that failed while others answered. The error is for a
// closed store, a done context, or a failure of every command.
func (s *Store) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if err := s.ready(ctx); err != nil {
		return nil, s.fail(hitbox.OpGetMany, err)
	}
	out := make([]hitbox.Result, len(keys))
	stored := make([]string, 0, len(keys))
	idx := make([]int, 0, len(keys)) // stored[j] is keys[idx[j]]
	for i, key := range keys {
		if err := checkKey(key); err != nil {
			out[i].Err = s.fail(hitbox.OpGetMany, err)
			continue
		}
		stored = append(stored, s.opt.Prefix+key)
		idx = append(idx, i)
	}
	if len(stored) == 0 {
		return out, nil
	}

	gs := s.split(stored)
	cmds := make([]redis.Cmder, len(gs))
	for g := range gs {
		args := make([]any, 1+len(gs[g].keys))
		args[0] = "mget"
		for j, k := range gs[g].keys {
			args[1+j] = k
		}
		cmds[g] = redis.NewSliceCmd(ctx, args...)
	}
	if err := s.exec(ctx, cmds); err != nil && (ctx.Err() != nil || allFailed(cmds)) {
		return nil, s.fail(hitbox.OpGetMany, cause(ctx, err))
	}

	// The values alias the strings go-redis read, as its own
	// StringCmd.Bytes does: each is a fresh string no one else holds, and
	// the Backend contract forbids callers to modify a Value they get, so
	// no second copy is made.
	now := s.opt.Now()
	var (
		damaged []string
		sects   [][]byte // tag sections of tagged entries, checked below
		tagged  []int    // their positions in stored
	)
	for g, c := range cmds {
		pos := gs[g].pos
		if err := c.Err(); err != nil {
			err = s.fail(hitbox.OpGetMany, cause(ctx, err))
			for _, p := range pos {
				out[idx[p]].Err = err
			}
			continue
		}
		vals := c.(*redis.SliceCmd).Val()
		for j, p := range pos {
			r := &out[idx[p]]
			var v any
			if j < len(vals) {
				v = vals[j]
			}
			str, ok := v.(string)
			if !ok { // nil: absent, or holding a list, a set, ...
				r.Err = s.errMissMany
				continue
			}
			e, sect, err := decode(unsafe.Slice(unsafe.StringData(str), len(str)))
			switch {
			case err == errPlaceholder:
				r.Err = s.errMissMany
			case err != nil:
				r.Err = s.fail(hitbox.OpGetMany, err)
				damaged = append(damaged, stored[p])
			case e.StateAt(now) == hitbox.Expired:
				r.Err = s.errMissMany
			default:
				r.Entry = e
				if sect != nil {
					sects = append(sects, sect)
					tagged = append(tagged, p)
				}
			}
		}
	}
	if len(sects) > 0 {
		// One more round trip checks every tagged entry's versions; those
		// that cannot be checked are not served.
		live, err := s.liveMany(ctx, sects)
		for n, p := range tagged {
			r := &out[idx[p]]
			switch {
			case err != nil:
				*r = hitbox.Result{Err: s.fail(hitbox.OpGetMany, err)}
			case !live[n]:
				*r = hitbox.Result{Err: s.errMissMany}
				damaged = append(damaged, stored[p])
			default:
				r.Tags = tagNames(sects[n])
			}
		}
	}
	if len(damaged) > 0 && ctx.Err() == nil {
		// Damaged and purged entries go in one pipelined round trip, not
		// one each: right after a popular tag's purge a batch holds many.
		// A failure only means a later read finds them again.
		_ = s.exec(ctx, unlinkCmds(ctx, s.split(damaged)))
	}
	return out, nil
}

// allFailed reports whether every command failed, so a batch has nothing
// to return.
func allFailed(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if c.Err() == nil {
			return false
		}
	}
	return true
}

// SetMany stores every item in one round trip per server, as a pipeline
// of the commands Set sends. Refused items (an empty key, a value over
// MaxValueSize) do not keep the others out: the error joins each refusal,
// naming its item's index, with the first failure from Redis.
func (s *Store) SetMany(ctx context.Context, items []hitbox.Item) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpSetMany, err)
	}
	var errs []error
	cmds := make([]redis.Cmder, 0, len(items))
	bufs := make([]*[]byte, 0, len(items))
	for i, it := range items {
		err := checkKey(it.Key)
		if err == nil {
			var c redis.Cmder
			var buf *[]byte
			if c, buf, err = s.setCmd(ctx, s.opt.Prefix+it.Key, it.Entry); err == nil {
				cmds = append(cmds, c)
				bufs = append(bufs, buf)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("item %d: %w", i, err))
		}
	}
	if len(cmds) > 0 {
		err := s.change(ctx, cmds...)
		for _, b := range bufs {
			s.release(b)
		}
		if err != nil {
			errs = append(errs, cause(ctx, err))
		}
	}
	if errs != nil {
		return s.fail(hitbox.OpSetMany, errors.Join(errs...))
	}
	return nil
}

// DeleteMany removes keys in one round trip per server (UNLINK; per hash
// slot on a cluster). Absent keys are not an error; empty keys are refused,
// naming their index, while the others are still removed.
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpDeleteMany, err)
	}
	var errs []error
	stored := make([]string, 0, len(keys))
	for i, key := range keys {
		if err := checkKey(key); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		stored = append(stored, s.opt.Prefix+key)
	}
	if len(stored) > 0 {
		if err := s.change(ctx, unlinkCmds(ctx, s.split(stored))...); err != nil {
			errs = append(errs, cause(ctx, err))
		}
	}
	if errs != nil {
		return s.fail(hitbox.OpDeleteMany, errors.Join(errs...))
	}
	return nil
}

// unlinkCmds returns one UNLINK per group.
func unlinkCmds(ctx context.Context, gs []group) []redis.Cmder {
	cmds := make([]redis.Cmder, len(gs))
	for g := range gs {
		args := make([]any, 1+len(gs[g].keys))
		args[0] = "unlink"
		for j, k := range gs[g].keys {
			args[1+j] = k
		}
		cmds[g] = redis.NewIntCmd(ctx, args...)
	}
	return cmds
}
