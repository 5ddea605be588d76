package tier

import (
	"context"
	"sync"
	"time"

	"github.com/hitbox-go/hitbox"
)

// invalidate is the tier's bus subscriber: it drops the keys another
// instance changed from the local levels, purges the tags it purged from
// them, or clears them after a gap. Its own messages are ignored, so its
// own writes keep their fresh L1 copies.
func (t *Tier) invalidate(inv hitbox.Invalidation) {
	if inv.Origin != "" && inv.Origin == t.id {
		return
	}
	if inv.Down {
		t.busDown()
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
				t.missed(lv, removals{all: true}, err)
				t.log.Error("hitbox/tier: cannot clear a local level after a bus gap; it may serve stale entries",
					"tier", t.label, "level", lv.label, "err", err)
			}
		}
		t.guard.endAll()
		if t.down.Swap(false) { // the gap is over: what the levels hold is current
			t.log.Info("hitbox/tier: bus resumed; local levels cleared and trusted again", "tier", t.label)
		}
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
				t.missed(lv, removals{keys: []string{key}}, err)
				t.log.Warn("hitbox/tier: cannot drop an invalidated key from a local level",
					"tier", t.label, "level", lv.label, "err", err)
			}
		}
		t.guard.end(ch)
	}
	if len(inv.Tags) > 0 {
		t.invalidateTags(ctx, inv.Tags)
	}
}

// expectOwn notes that the tier is writing items, so the bus echo of the
// write (one with no origin) is not taken for another instance's change.
func (t *Tier) expectOwn(items []hitbox.Item) {
	if t.own.window <= 0 {
		return
	}
	now := t.now()
	for _, it := range items {
		t.own.expect(it.Key, now)
	}
}

// cancelOwn takes back expectOwn for items no shared level stored: no
// echo will come.
func (t *Tier) cancelOwn(items []hitbox.Item) {
	if t.own.window <= 0 {
		return
	}
	for _, it := range items {
		t.own.cancel(it.Key)
	}
}

// ownWrites counts this tier's recent writes per key, for a bus whose
// messages carry no origin: see Options.OwnWrites.
type ownWrites struct {
	window time.Duration
	mu     sync.Mutex
	m      map[string]ownWrite
}

type ownWrite struct {
	n     int
	until time.Time
}

// ownSweep is the map size over which expect drops expired entries.
const ownSweep = 4096

func (o *ownWrites) init(window time.Duration) {
	o.window = window
	if window > 0 {
		o.m = make(map[string]ownWrite)
	}
}

func (o *ownWrites) expect(key string, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.m) >= ownSweep {
		for k, w := range o.m {
			if !now.Before(w.until) {
				delete(o.m, k)
			}
		}
	}
	w := o.m[key]
	w.n++
	w.until = now.Add(o.window)
	o.m[key] = w
}

func (o *ownWrites) cancel(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if w, ok := o.m[key]; ok {
		if w.n <= 1 {
			delete(o.m, key)
		} else {
			w.n--
			o.m[key] = w
		}
	}
}

// consume reports whether an invalidation of key is the echo of an own
// write, and forgets every own write of key pending. Redis may coalesce the
// echoes of two quick writes into one message: one echo taking all of them
// costs at worst one needless L1 drop, while one echo taking one would let
// the leftover swallow another instance's write for the whole window.
func (o *ownWrites) consume(key string, now time.Time) bool {
	if o.window <= 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.m[key]
	if !ok {
		return false
	}
	delete(o.m, key)
	return now.Before(w.until)
}

// publish announces inv on the bus when it is a hitbox.Publisher and the tier has
// shared levels, even when the caller's context is done: the change has
// been made.
func (t *Tier) publish(ctx context.Context, inv hitbox.Invalidation) error {
	if t.pub == nil || t.local >= len(t.levels) {
		return nil
	}
	inv.Origin = t.id
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = t.detached(ctx)
		defer cancel()
	}
	if err := t.pub.Publish(ctx, inv); err != nil {
		return &hitbox.Error{Op: hitbox.OpPublish, Backend: t.label, Err: err}
	}
	return nil
}
