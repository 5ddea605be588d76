package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// scanCount is the COUNT hint of each SCAN: how many keys the server looks
// at per call, and so about how many one UNLINK of Clear or ClearPrefix
// removes.
const scanCount = 1000

// Clear removes every key under the store's Prefix, and nothing else: it
// walks them with SCAN MATCH and removes each page with UNLINK, on every
// master of a cluster and every shard of a ring. It never runs FLUSHDB or
// FLUSHALL, and without a Prefix it refuses with an error wrapping
// hitbox.ErrNotSupported, since it would remove every key in the database.
//
// Clear is not atomic: keys written under the prefix while it runs may or
// may not survive it. With Options.WaitReplicas each page's UNLINK waits
// for the replicas, so a Clear that returns nil had every removal
// acknowledged.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpClear, err)
	}
	if s.opt.Prefix == "" {
		return s.fail(hitbox.OpClear, fmt.Errorf("%w: Clear needs Options.Prefix, or it would remove the whole database", hitbox.ErrNotSupported))
	}
	return s.clearUnder(ctx, hitbox.OpClear, "")
}

// ClearPrefix removes every key of the store that starts with prefix: the
// stored keys under the store's Prefix followed by prefix, and nothing
// else. It works as Clear does (SCAN MATCH over every master of a cluster
// and every shard of a ring, UNLINK page by page, never a flush), so its
// cost grows with the keys the server holds, not only with those removed;
// a store prefix of its own is not needed, since the match never goes
// beyond prefix. An empty prefix is refused with an error wrapping
// hitbox.ErrInvalidKey. Like Clear, it is not atomic.
func (s *Store) ClearPrefix(ctx context.Context, prefix string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpClearPrefix, err)
	}
	if prefix == "" {
		return s.fail(hitbox.OpClearPrefix, hitbox.ErrInvalidKey)
	}
	return s.clearUnder(ctx, hitbox.OpClearPrefix, prefix)
}

// clearUnder removes the stored keys that start with the store's Prefix
// followed by prefix, from every server that may hold one.
func (s *Store) clearUnder(ctx context.Context, op, prefix string) error {
	match := EscapeGlob(s.opt.Prefix+prefix) + "*"
	// Tag versions live under the Prefix too: Clear removes them with the
	// entries, ClearPrefix never (no key under its prefix can carry them).
	skip := ""
	if op == hitbox.OpClearPrefix {
		skip = s.opt.Prefix + tagSpace
	}
	clearNode := func(ctx context.Context, node *redis.Client) error { return s.clearNode(ctx, node, match, skip) }
	var err error
	switch c := s.rdb.(type) {
	case *redis.Client:
		err = clearNode(ctx, c)
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, clearNode)
	case *redis.Ring:
		err = c.ForEachShard(ctx, clearNode)
	default:
		return s.fail(op, fmt.Errorf("%w: cannot reach every server through a %T", hitbox.ErrNotSupported, s.rdb))
	}
	if err != nil {
		return s.fail(op, cause(ctx, err))
	}
	return nil
}

// clearNode removes the keys matching the SCAN pattern match held by one
// server, but those starting with skip when it is not empty. On a cluster
// node the keys of a page may lie in several slots, so they are removed by
// slot, in one pipeline.
func (s *Store) clearNode(ctx context.Context, node *redis.Client, match, skip string) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return err
		}
		if skip != "" {
			keys = slices.DeleteFunc(keys, func(k string) bool { return strings.HasPrefix(k, skip) })
		}
		if len(keys) > 0 {
			if err := s.unlinkOn(ctx, node, keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// unlinkOn removes keys from one server.
func (s *Store) unlinkOn(ctx context.Context, node *redis.Client, keys []string) error {
	var gs []group
	if s.kind == cluster {
		gs = s.split(keys)
	} else {
		gs = chunk([]group{{keys: keys, pos: make([]int, len(keys))}})
	}
	cmds := unlinkCmds(ctx, gs)
	if s.wait != nil {
		// Only a *redis.Client waits, so node is the store's one server:
		// each page's UNLINKs wait for replicas on one connection of it.
		return s.change(ctx, cmds...)
	}
	if len(cmds) == 1 {
		return node.Process(ctx, cmds[0])
	}
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range cmds {
			_ = p.Process(ctx, c)
		}
		return nil
	})
	return err
}

// EscapeGlob escapes the characters SCAN MATCH treats as a pattern, so s
// matches only itself: EscapeGlob(prefix)+"*" is the pattern for Keys that
// lists the keys under a literal prefix.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
