// Package tier composes backends into levels, L1 first, and is itself a
// hitbox.Backend: the usual end of a pipeline (the package's Example):
//
//	l1, _ := memstore.New(memstore.Options{Label: "memory"})
//	l2, _ := memstore.New(memstore.Options{Label: "redis"}) // in production, a redisstore.Store
//	pipeline := hitbox.Chain(layer.Encode()).Then(tier.New(l1, l2))
//
// Any backend can be a level: a store, a pipeline (L1 plain in memory, L2
// compressed in Redis), or another tier, nested to any depth. tier itself
// knows no concrete store.
//
// # Policies
//
// Options, given to NewWith, choose how the levels are used; the zero value
// is the default (ExampleNewWith):
//
//	t := tier.NewWith(tier.Options{
//		Read:   tier.ReadParallel,            // ask both levels, keep the freshest
//		MaxTTL: []time.Duration{time.Minute}, // an L1 copy lives at most a minute
//	}, l1, l2)
//
// Reads are ReadSequential (L1, then L2 on a miss: the default), ReadRace or
// ReadParallel (the freshest hit wins). A hit in a lower level is copied into
// the levels above it (refill) with the entry's own deadlines, so a copy
// never outlives the original, cut to the level's MaxTTL; stale hits are
// served but not copied up unless RefillStale is set.
//
// Writes are WriteThrough (the default: every level, the lowest first, so no
// level holds what a level below it lacks), WriteParallel (all at once,
// succeeding when the Required levels do) or WriteBehind (L1 now, the rest
// in the background). Delete always removes the key from every level, the
// lowest first, and reports every level's error.
//
// Concurrent changes are guarded: a read that copies an L2 value up while a
// Set or Delete of the same key is running takes its copy back, and two
// overlapping writes of one key drop it from the upper levels, so a deleted
// or replaced value is never left behind in L1.
//
// # Failures
//
// A failing level is a miss for reads, counted in Stats; Get fails only when
// no level answered, with an error that wraps every level's error, and
// returns hitbox.ErrMiss when the levels that answered all missed. Each
// level has a circuit breaker (Options.Breaker): after consecutive failures
// the level is skipped, failing at once with ErrOpen, for a cool-down, then
// probed by one call.
//
// A removal (Delete, DeleteMany, Remove, InvalidateTags, Clear,
// ClearPrefix) that cannot reach a level returns its error at once and is
// kept in that level's journal, which is replayed on the level before it
// is read or written again; while the replay fails, the level counts as
// failing, so a level that comes back never serves what a removal it
// missed removed. The journal is bounded (Options.Journal); on overflow a
// local level is cleared, and a shared one follows Options.JournalOverflow.
//
// # Leases
//
// A tier is a hitbox.Leaser: Lease takes a lease from every level that can
// give one, in one pass, and SetLeased stores a load's entry only if no
// change crossed the load on the shared levels, which are written first;
// when one refuses, nothing is written above it and the error wraps
// hitbox.ErrLeaseLost. A leased store is never done behind.
//
// # Background work
//
// Background refills, write-behind and race losers left to finish run on
// one bounded pool per tier: a few workers, a queue whose overflow is
// dropped and counted, one pending task per key (a newer one replaces it),
// a timeout per task, and contexts that keep the caller's values but not
// its cancellation. Close lets queued work finish for DrainTimeout, cancels
// the rest and returns once every goroutine the tier started has stopped.
//
// # Coherence across instances
//
// When several processes each have their own L1 over a shared L2, a hitbox.Bus
// tells each tier what the others changed so its L1 drops the copy
// (ExampleLocalBus):
//
//	bus := hitbox.NewLocalBus()
//	a := tier.NewWith(tier.Options{Bus: bus}, l1a, shared)
//	b := tier.NewWith(tier.Options{Bus: bus}, l1b, shared)
//
// A hitbox.Bus that is also a hitbox.Publisher (an application pub/sub channel) carries
// each tier's writes, tagged with its ID, and a tier ignores its own
// messages, so its own write keeps its fresh L1 copy. A hitbox.Bus fed by the
// shared store itself (Redis server-assisted client tracking) carries every
// client's writes but no origin; see Options.OwnWrites for a tier's own
// writes then. Whenever a bus may have lost messages it says so, and the
// tier clears its local levels. hitbox.LocalBus connects tiers within one process.
//
// A bus also says when delivery may have stopped (hitbox.Invalidation.Down):
// from then until it resumes, the tier reads through to its shared levels
// and answers from a local copy only when they fail, so an outage fails no
// read a local copy can answer and no read returns a copy the bus could
// not invalidate. A tier starts trusting its local levels unless its bus
// says Down at Subscribe.
//
// # Tags
//
// A tier is a hitbox.Tagger. SetTagged stores the tags with the entry in
// every level, under the write policy, and needs every level to keep tags
// (to be a Tagger, through any layers): otherwise it fails with
// hitbox.ErrNotSupported and writes nothing. A refill copies an entry up
// with the tags its level returned, so a purge reaches the copies too; a
// tagged entry is never copied into a level that cannot keep its tags. A
// purge reaches every level of this tier and the local levels of every
// instance on the bus:
//
//	a := tier.NewWith(tier.Options{Bus: bus}, l1a, shared)
//	b := tier.NewWith(tier.Options{Bus: bus}, l1b, shared)
//	_ = a.SetTagged(ctx, "user:42:profile", e, []string{"user:42"})
//	_, _ = b.Get(ctx, "user:42:profile")    // b's L1 copy keeps the tag
//	err := a.InvalidateTags(ctx, "user:42") // shared, a's L1, then b's L1 over the bus
//
// The order makes it hold against reads running meanwhile: InvalidateTags
// first raises a tier-wide purge sequence, then purges the levels from the
// lowest (shared) to L1, then publishes the tags on the bus, where each
// other instance raises its own sequence and purges its local levels. A
// refill that read a lower level before a purge of one of the entry's tags
// and would store after it, or a tagged write that overlapped such a
// purge, takes its upper copy back, as for a changed key: a tagged entry
// from before the purge never survives it in an upper level, at the cost
// of a refill. Entries without tags are untouched, and their reads cost
// what they did.
//
// # Which level answered
//
// A tier records which level answered a read in the hitbox.Answer that
// the read's context carries (see hitbox.TrackAnswer), through any layers
// and nested tiers in between, at no cost to reads without one (the
// package's Example, whose L1 lost its copy):
//
//	for range 2 {
//		tctx, src := hitbox.TrackAnswer(ctx)
//		e, err := pipeline.Get(tctx, "user:1")
//		fmt.Println(string(e.Value), err, src.Path(), src.Level())
//	}
//	// Output:
//	// alice <nil> tier.redis 1
//	// alice <nil> tier.memory 0
//
// Path names nested tiers too: "outer.inner.redis".
//
// Stats returns the tier's counters, and ReportStats hands them to an otel
// Metrics layer above the tier.
package tier
