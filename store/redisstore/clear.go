package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// scanCount is the COUNT hint of each SCAN: how many keys the server looks
// at per call, and so about how many one UNLINK of Clear removes.
const scanCount = 1000

// Clear removes every key under the store's Prefix, and nothing else: it
// walks them with SCAN MATCH and removes each page with UNLINK, on every
// master of a cluster and every shard of a ring. It never runs FLUSHDB or
// FLUSHALL, and without a Prefix it refuses with an error wrapping
// hitbox.ErrNotSupported, since it would remove every key in the database.
//
// Clear is not atomic: keys written under the prefix while it runs may or
// may not survive it.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpClear, err)
	}
	if s.opt.Prefix == "" {
		return s.fail(hitbox.OpClear, fmt.Errorf("%w: Clear needs Options.Prefix, or it would remove the whole database", hitbox.ErrNotSupported))
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.Client:
		err = s.clearNode(ctx, c)
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, s.clearNode)
	case *redis.Ring:
		err = c.ForEachShard(ctx, s.clearNode)
	default:
		return s.fail(hitbox.OpClear, fmt.Errorf("%w: Clear cannot reach every server through a %T", hitbox.ErrNotSupported, s.rdb))
	}
	if err != nil {
		return s.fail(hitbox.OpClear, cause(ctx, err))
	}
	return nil
}

// clearNode removes the keys under the prefix held by one server. On a
// cluster node the keys of a page may lie in several slots, so they are
// removed by slot, in one pipeline.
func (s *Store) clearNode(ctx context.Context, node *redis.Client) error {
	match := escapeGlob(s.opt.Prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return err
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

// escapeGlob escapes the characters SCAN MATCH treats as a pattern, so the
// prefix matches only itself.
func escapeGlob(s string) string {
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
