package tier

import (
	"context"
	"errors"

	"github.com/hitbox-go/hitbox"
)

// A bus gap: from a hitbox.Invalidation with Down set until the next one
// with All set, the bus may be missing messages, so no copy in a local
// level can be proved current. The tier then reads through to its shared
// levels, and answers from a local copy only when they fail
// (stale-if-error): an outage of the bus fails no read that a local copy
// can answer, and an outage of the shared level too fails no read that it
// could answer before. Nothing is copied up meanwhile, since the copy
// could not be invalidated; the All that ends the gap clears the local
// levels and the tier trusts them again. A read whose context says its
// caller has a source of truth (hitbox.WithSource) gets the shared
// level's error instead of the local copy: the source answers it, current.
// A read that carries a hitbox.Answer learns that its hit was such a copy
// (Answer.Unproven).

// busDown is the subscriber's part of a Down message.
func (t *Tier) busDown() {
	if t.local >= len(t.levels) {
		return // no shared level to read through to
	}
	if !t.down.Swap(true) {
		t.log.Warn("hitbox/tier: bus may have stopped delivering; reading through to the shared levels until it resumes",
			"tier", t.label)
	}
}

// getDown is Get and GetTagged during a bus gap.
func (t *Tier) getDown(ctx context.Context, key string, tagged bool) (hitbox.Entry, []string, error) {
	src := hitbox.AnswerFrom(ctx)
	var tags []string
	var out *[]string
	if tagged {
		out = &tags
	}
	e, err := t.getSequential(ctx, key, src, t.local, false, nil, out)
	switch {
	case err == nil:
		return e, tags, nil
	case ctx.Err() != nil:
		return hitbox.Entry{}, nil, err
	case errors.Is(err, hitbox.ErrMiss):
		// The shared levels answered: a local copy is one they lost.
		ch := t.guard.begin(key)
		for j := range t.local {
			_ = t.dropKeys(ctx, &t.levels[j], []string{key})
		}
		t.guard.end(ch)
		return hitbox.Entry{}, nil, err
	case hitbox.HasSource(ctx):
		// The caller can load from its source, which is current; it
		// asks again without WithSource if that fails.
		return hitbox.Entry{}, nil, err
	}
	for j := range t.local {
		lv := &t.levels[j]
		if !t.readable(ctx, lv) {
			continue
		}
		var mark int
		if src != nil {
			mark = src.Mark()
		}
		le, ltags, lerr := t.readLevel(ctx, lv, j, key, tagged)
		if lerr == nil {
			t.answered(lv)
			lv.hits.Add(1)
			if src != nil {
				src.Record(mark, t.label, lv.label, j)
				src.MarkUnproven()
			}
			return le, ltags, nil
		}
		if src != nil {
			src.Undo(mark)
		}
		if t.classify(ctx, lv, lerr) == outcomeCancelled {
			return hitbox.Entry{}, nil, lerr
		}
	}
	return hitbox.Entry{}, nil, err
}

// getManyDown is GetMany during a bus gap: key by key, as getDown.
func (t *Tier) getManyDown(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	out := make([]hitbox.Result, len(keys))
	for k, key := range keys {
		e, tags, err := t.getDown(ctx, key, true)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		out[k] = hitbox.Result{Entry: e, Tags: tags, Err: err}
	}
	return out, nil
}
