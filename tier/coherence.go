package tier

import (
	"context"

	"github.com/hitbox-go/hitbox"
)

// invalidate is the tier's bus subscriber: it drops the keys another
// instance changed from the local levels, or clears them after a gap. Its
// own messages are ignored, so its own writes keep their fresh L1 copies.
func (t *Tier) invalidate(inv hitbox.Invalidation) {
	if inv.Origin != "" && inv.Origin == t.id {
		return
	}
	ctx, cancel := context.WithTimeout(t.pool.root, t.timeout)
	defer cancel()
	if inv.All {
		t.gaps.Add(1)
		t.guard.beginAll()
		for j := range t.local {
			lv := &t.levels[j]
			if err := hitbox.Clear(ctx, lv.b); err != nil {
				t.wrote(ctx, lv, err)
				if t.log != nil {
					t.log.Error("hitbox/tier: cannot clear a local level after a bus gap; it may serve stale entries",
						"tier", t.label, "level", lv.label, "err", err)
				}
			}
		}
		t.guard.endAll()
		return
	}
	var now = t.now
	for _, key := range inv.Keys {
		if key == "" {
			continue
		}
		if inv.Origin == "" && t.own.window > 0 && t.own.consume(key, now()) {
			continue
		}
		t.invalidations.Add(1)
		ch := t.guard.begin(key)
		for j := range t.local {
			lv := &t.levels[j]
			if err := lv.b.Delete(ctx, key); err != nil {
				t.wrote(ctx, lv, err)
				if t.log != nil {
					t.log.Warn("hitbox/tier: cannot drop an invalidated key from a local level",
						"tier", t.label, "level", lv.label, "err", err)
				}
			}
		}
		t.guard.end(ch)
	}
}
