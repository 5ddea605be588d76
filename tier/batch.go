package tier

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// GetMany reads keys level by level, whatever the read policy: one batch
// call to L1 for every key, one to L2 for the keys L1 did not have, and so
// on, then refills the upper levels. A level below L1 that is a
// hitbox.Tagger is read key by key with GetTagged instead when a refill may
// follow, so the copies keep their tags (hitbox has no batch read with
// tags). A key's Result wraps hitbox.ErrMiss when every level that
// answered missed, or every level's error when none answered. The
// returned error is for the caller's context alone.
func (t *Tier) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if t.closed.Load() {
		return nil, t.fail(hitbox.OpGetMany, hitbox.ErrClosed)
	}
	for _, k := range keys {
		if k == "" {
			return nil, t.fail(hitbox.OpGetMany, hitbox.ErrInvalidKey)
		}
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
		tags   [][]string // each hit's tags, when a level gave any
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
		if !t.allow(lv) {
			for _, k := range todo {
				addErr(k, openErr(hitbox.OpGetMany, lv))
			}
			continue
		}
		sub = sub[:0]
		for _, k := range todo {
			sub = append(sub, keys[k])
		}
		var res []hitbox.Result
		var resTags [][]string
		var err error
		if i > 0 && lv.tg != nil && t.refill != RefillOff {
			res, resTags, err = getTagged(ctx, lv, sub)
		} else {
			res, err = hitbox.GetMany(ctx, lv.b, sub)
		}
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
				out[k].Entry = r.Entry
				hitAt[k] = i
				lv.hits.Add(1)
				if resTags != nil && len(resTags[j]) > 0 {
					if tags == nil {
						tags = make([][]string, len(keys))
					}
					tags[k] = resTags[j]
				}
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
	t.refillMany(ctx, keys, out, tags, hitAt, stamps)
	return out, nil
}

// getTagged reads keys from lv one GetTagged at a time, as GetMany would in
// one call, and returns each hit's tags beside the results. It stops with
// the context's error when the caller gives up.
func getTagged(ctx context.Context, lv *level, keys []string) ([]hitbox.Result, [][]string, error) {
	res := make([]hitbox.Result, len(keys))
	tags := make([][]string, len(keys))
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, nil, &hitbox.Error{Op: hitbox.OpGetMany, Backend: lv.label, Err: err}
		}
		res[i].Entry, tags[i], res[i].Err = lv.tg.GetTagged(ctx, k)
	}
	return res, tags, nil
}
