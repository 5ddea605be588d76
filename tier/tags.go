package tier

import (
	"context"
	"errors"

	"github.com/hitbox-go/hitbox"
)

// InvalidateTags drops every entry that carries one of tags from every
// level, and from the local levels of the other instances on the bus. The
// order is what makes it hold against concurrent reads: it first raises
// the tier's tag sequence, so a refill of an entry carrying one of tags
// that read a lower level before the purge and would store after it takes
// its copy back (see guard); then
// it purges the levels from the lowest, shared, to L1, each through its
// hitbox.Tagger; then it publishes hitbox.Invalidation{Tags: tags} when
// the bus is a hitbox.Publisher.
//
// A level that fails does not stop the purge: the others are purged and
// the message published all the same, and the error, wrapping every
// level's, is returned. Levels that keep no tags are skipped: the tier
// never stores a tagged entry in them (SetTagged refuses, refills stop
// below them). When no level is a Tagger it fails with
// hitbox.ErrNotSupported. A call without tags does nothing; an empty tag
// or one over hitbox.MaxTagLen is refused with hitbox.ErrInvalidTag.
func (t *Tier) InvalidateTags(ctx context.Context, tags ...string) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpInvalidateTags, hitbox.ErrClosed)
	}
	if len(tags) == 0 {
		return nil
	}
	if err := hitbox.CheckTagList(tags); err != nil {
		return t.fail(hitbox.OpInvalidateTags, err)
	}
	if t.taggers == 0 {
		return t.fail(hitbox.OpInvalidateTags, hitbox.ErrNotSupported)
	}
	p := t.guard.beginPurge(tags)
	errs := t.purgeLevels(ctx, len(t.levels), tags)
	t.guard.endPurge(p)
	if err := t.publish(ctx, hitbox.Invalidation{Tags: tags}); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return t.fail(hitbox.OpInvalidateTags, errors.Join(errs...))
	}
	return nil
}

// purgeLevels invalidates tags in levels [0, n), the lowest first, and
// returns the errors of those that failed; the guard's purge is begun.
func (t *Tier) purgeLevels(ctx context.Context, n int, tags []string) []error {
	var errs []error
	for j := n - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if lv.tg == nil {
			continue
		}
		if !t.writable(ctx, lv) {
			t.missed(lv, removals{tags: tags}, nil)
			errs = append(errs, openErr(hitbox.OpInvalidateTags, lv))
			continue
		}
		if err := lv.tg.InvalidateTags(ctx, tags...); err != nil {
			if !errors.Is(err, hitbox.ErrNotSupported) {
				t.wrote(ctx, lv, err)
			}
			t.missed(lv, removals{tags: tags}, err)
			errs = append(errs, err)
		}
	}
	return errs
}

// invalidateTags purges tags, which another instance purged, from the
// local levels: the bus subscriber's part of a purge. Tags no store could
// hold (empty, too long) are left out, so one bad tag in a message does
// not keep the others from being purged.
func (t *Tier) invalidateTags(ctx context.Context, tags []string) {
	for i, tg := range tags {
		if tg == "" || len(tg) > hitbox.MaxTagLen {
			// Rare: copy once, keeping only the tags a store could hold.
			valid := append([]string(nil), tags[:i]...)
			for _, tg := range tags[i+1:] {
				if tg != "" && len(tg) <= hitbox.MaxTagLen {
					valid = append(valid, tg)
				}
			}
			tags = valid
			break
		}
	}
	if len(tags) == 0 {
		return
	}
	t.tagInvalidations.Add(uint64(len(tags)))
	p := t.guard.beginPurge(tags)
	for _, err := range t.purgeLevels(ctx, t.local, tags) {
		t.log.Warn("hitbox/tier: cannot purge invalidated tags from a local level",
			"tier", t.label, "err", err)
	}
	t.guard.endPurge(p)
}
