package tier

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// guard keeps refills from putting back a value that a write, a delete or
// an invalidation has just replaced. The race it closes: a read misses L1
// and reads the old value from L2; meanwhile a delete removes the key from
// L2 and then from L1; then the read copies the old value into L1, where it
// would live on. Deleting lower levels first is not enough on its own.
//
// Every change to a key (Set, Delete, a bus invalidation) is bracketed by
// begin and end on the key's stripe: begin raises the stripe's generation
// and its count of changes in progress, end lowers the count. A refill
// takes a stamp before it reads the lower level, gives up when a change is
// in progress, writes the upper level, and then checks the stamp again:
// when a change began since, or is still running, it deletes what it wrote.
// A refill that checks before a change begins wrote before that change's
// own writes and deletes, which therefore replace what it wrote.
//
// Two changes to one key that overlap in time can also leave the levels
// apart: Set(x) and Set(y) may reach L2 as x, y and L1 as y, x. end reports
// such an overlap (another change was running when this one began, or began
// before it ended) and the writer then drops the key from the upper levels;
// the last of the overlapping writers drops it after every write of all of
// them, so the levels agree again.
//
// Keys share stripes, so a change to one key may cost a refill of another,
// or an L1 copy; it never lets a stale value through. Clearing every key
// bumps one global generation that every stamp includes. The stripes are
// internal/keyguard's, which httpcache shares.
//
// A purge by tag (the tier's own InvalidateTags, or one arriving from the
// bus) is bracketed the same way on one tier-wide tag sequence, raised as
// it begins and as it ends. A tagged refill or tagged write compares the
// sequence with its stamp after it writes: unchanged, with no purge
// running, is the common case and costs two atomic loads. Otherwise it
// looks through the recent purges for one that overlapped it (ended after
// its stamp, or still running) and names one of its tags, and then takes
// its copy back: a miss, never a survivor of the purge. An overlapping
// purge of other tags leaves it alone, so a purge drops exactly the
// entries that carry its tags. When the log of recent purges has
// forgotten one that might have overlapped, it errs on the side of a
// miss. Entries without tags are not concerned: no purge reaches them.
type guard struct {
	keys   keyguard.Guard
	global atomic.Uint64
	all    atomic.Int64 // clears of every key in progress

	tagSeq atomic.Uint64 // raised as every purge by tag begins and ends
	purges atomic.Int64  // purges by tag in progress

	purgeMu   sync.Mutex
	purgeLog  []*purge // recent purges, oldest first
	forgotten uint64   // the latest end of the purges dropped from purgeLog
}

// purge is one purge by tag, as the guard remembers it.
type purge struct {
	tags []string
	set  map[string]struct{} // tags as a set, for a purge of many
	end  uint64              // tagSeq at its end; 0 while it runs
}

// purgeSetOver is how many tags a purge names before the guard looks them
// up in a set rather than a slice.
const purgeSetOver = 16

// names reports whether p purges one of tags.
func (p *purge) names(tags []string) bool {
	for _, t := range tags {
		if p.set != nil {
			if _, ok := p.set[t]; ok {
				return true
			}
		} else if slices.Contains(p.tags, t) {
			return true
		}
	}
	return false
}

// maxPurgeLog is how many ended purges the guard remembers. A tagged write
// that took longer than that many purges to land is taken back whatever
// its tags.
const maxPurgeLog = 64

// stamp is what a refill remembers before it reads: its key's stripe, the
// global generation and the tag sequence.
type stamp struct {
	key    keyguard.Stamp
	global uint64
	tags   uint64 // the tag sequence
	busy   bool   // a change was in progress: do not refill
}

func (g *guard) init() { g.keys.Init() }

func (g *guard) index(key string) int { return g.keys.Index(key) }

// begin marks the start of a change to key; end must follow.
func (g *guard) begin(key string) keyguard.Change { return g.keys.Begin(key) }

// overlapped reports whether another change to the stripe was running when
// c began, or has begun since. Writers ask it after their last write and
// before end.
func (g *guard) overlapped(c keyguard.Change) bool { return c.Overlapped() }

// end marks the end of a change.
func (g *guard) end(c keyguard.Change) { c.End() }

// beginAll marks the start of a change to every key (a clear, a bus gap);
// endAll must follow.
func (g *guard) beginAll() {
	g.all.Add(1)
	g.global.Add(1)
}

func (g *guard) endAll() { g.all.Add(-1) }

func (g *guard) stamp(key string) stamp {
	st := stamp{global: g.global.Load(), tags: g.tagSeq.Load(), key: g.keys.Stamp(key)}
	st.busy = st.key.Busy() || g.all.Load() != 0
	return st
}

// valid reports whether no change to the stamped key has begun since the
// stamp, nor is running now.
func (g *guard) valid(st stamp) bool {
	return !st.busy && st.key.Valid() && g.all.Load() == 0 && g.global.Load() == st.global
}

// beginPurge marks the start of a purge of tags; endPurge must follow.
func (g *guard) beginPurge(tags []string) *purge {
	p := &purge{}
	if len(tags) > purgeSetOver {
		p.set = make(map[string]struct{}, len(tags))
		for _, t := range tags {
			p.set[t] = struct{}{}
		}
	} else {
		p.tags = slices.Clone(tags) // the caller's slice is not ours to keep
	}
	g.purgeMu.Lock()
	g.purgeLog = append(g.purgeLog, p)
	g.purges.Add(1)
	g.tagSeq.Add(1)
	g.purgeMu.Unlock()
	return p
}

// endPurge marks the end of p, and forgets the oldest purges that ended
// beyond maxPurgeLog.
func (g *guard) endPurge(p *purge) {
	g.purgeMu.Lock()
	defer g.purgeMu.Unlock()
	p.end = g.tagSeq.Add(1)
	g.purges.Add(-1)
	for len(g.purgeLog) > maxPurgeLog && g.purgeLog[0].end != 0 {
		g.forgotten = max(g.forgotten, g.purgeLog[0].end)
		g.purgeLog[0] = nil
		g.purgeLog = g.purgeLog[1:]
	}
}

// tagStamp is stamp for a tagged write, which needs the tag sequence only.
func (g *guard) tagStamp() stamp { return stamp{tags: g.tagSeq.Load()} }

// tagsValid reports whether no purge of one of tags has overlapped the
// time since the stamp: begun since, or running now, or ended since.
func (g *guard) tagsValid(st stamp, tags []string) bool {
	if g.purges.Load() == 0 && g.tagSeq.Load() == st.tags {
		return true
	}
	g.purgeMu.Lock()
	defer g.purgeMu.Unlock()
	if g.forgotten > st.tags {
		return false // a purge it cannot see any more ended since the stamp
	}
	for _, p := range g.purgeLog {
		if p.end != 0 && p.end <= st.tags {
			continue // it ended before the stamp
		}
		if p.names(tags) {
			return false
		}
	}
	return true
}

// validFor is valid, and tagsValid too for an entry with tags.
func (g *guard) validFor(st stamp, tags []string) bool {
	return g.valid(st) && (len(tags) == 0 || g.tagsValid(st, tags))
}

// begin marks a change to the keys of items, or to keys; end must follow.
func (t *Tier) begin(items []hitbox.Item, keys []string) []keyguard.Change {
	changes := make([]keyguard.Change, 0, len(items)+len(keys))
	for _, it := range items {
		changes = append(changes, t.guard.begin(it.Key))
	}
	for _, k := range keys {
		changes = append(changes, t.guard.begin(k))
	}
	return changes
}

// end ends the changes a write of items made, first dropping from every
// level but the lowest the keys whose change overlapped another (every key,
// when drop is set): see guard.
func (t *Tier) end(ctx context.Context, items []hitbox.Item, changes []keyguard.Change, drop bool) {
	var keys []string
	for i, ch := range changes {
		if drop || t.guard.overlapped(ch) {
			keys = append(keys, items[i].Key)
		}
	}
	if len(keys) > 0 {
		for j := len(t.levels) - 2; j >= 0; j-- {
			_ = t.dropKeys(ctx, &t.levels[j], keys)
		}
	}
	for _, ch := range changes {
		t.guard.end(ch)
	}
}
