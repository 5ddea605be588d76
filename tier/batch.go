package tier

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// GetMany reads keys level by level, whatever the read policy: one batch
// call to L1 for every key, one to L2 for the keys L1 did not have, and so
// on, then refills the upper levels. A hit's Result.Tags are the tags its
// level gave (see hitbox.Result), and the refills keep them. A key's
// Result wraps hitbox.ErrMiss when every level that answered missed, or
// every level's error when none answered. The returned error is for the
// caller's context alone.
func (t *Tier) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if t.closed.Load() {
		return nil, t.fail(hitbox.OpGetMany, hitbox.ErrClosed)
	}
	for _, k := range keys {
		if k == "" {
			return nil, t.fail(hitbox.OpGetMany, hitbox.ErrInvalidKey)
		}
	}
	if t.down.Load() && len(keys) > 0 {
		return t.getManyDown(ctx, keys)
	}
	out := make([]hitbox.Result, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	todo := make([]int, len(keys))
	hitAt := make([]int, len(keys))
	for k := range keys {
		todo[k] = k
		hitAt[k] = -1
	}
	answered := make([]bool, len(keys))
	var (
		errs   [][]error
		stamps []stamp
	)
	addErr := func(k int, err error) {
		if errs == nil {
			errs = make([][]error, len(keys))
		}
		errs[k] = append(errs[k], err)
	}
	sub := make([]string, 0, len(keys))
	for i := range t.levels {
		if len(todo) == 0 {
			break
		}
		lv := &t.levels[i]
		if i == 1 && t.refill != RefillOff {
			stamps = make([]stamp, len(keys))
			for _, k := range todo {
				stamps[k] = t.guard.stamp(keys[k])
			}
		}
		if !t.readable(ctx, lv) {
			for _, k := range todo {
				addErr(k, openErr(hitbox.OpGetMany, lv))
			}
			continue
		}
		sub = sub[:0]
		for _, k := range todo {
			sub = append(sub, keys[k])
		}
		res, err := hitbox.GetMany(ctx, lv.b, sub)
		if err == nil && len(res) != len(sub) {
			err = &hitbox.Error{Op: hitbox.OpGetMany, Backend: lv.label,
				Err: fmt.Errorf("%d results for %d keys", len(res), len(sub))}
		}
		if err != nil {
			if ctx.Err() != nil {
				lv.br.abort()
				return nil, err
			}
			t.failed(lv, err)
			for _, k := range todo {
				addErr(k, err)
			}
			continue
		}
		next := todo[:0]
		var failure error
		for j, r := range res {
			k := todo[j]
			switch {
			case r.Err == nil:
				out[k].Entry, out[k].Tags = r.Entry, r.Tags
				hitAt[k] = i
				lv.hits.Add(1)
				continue
			case errors.Is(r.Err, hitbox.ErrMiss), errors.Is(r.Err, hitbox.ErrCorrupt):
				lv.misses.Add(1)
				answered[k] = true
			default:
				lv.errors.Add(1)
				failure = r.Err
				addErr(k, r.Err)
			}
			next = append(next, k)
		}
		if failure != nil {
			t.breakerFailure(lv, failure)
		} else {
			t.answered(lv)
		}
		todo = next
	}
	for _, k := range todo {
		if answered[k] || errs == nil {
			out[k].Err = hitbox.ErrMiss
		} else {
			out[k].Err = t.fail(hitbox.OpGet, errors.Join(errs[k]...))
		}
	}
	t.refillMany(ctx, keys, out, hitAt, stamps)
	return out, nil
}
