// Package cache is the typed cache that applications call over a hitbox
// pipeline: typed values become bytes once, here, and every layer and
// store below works on bytes (the package's Example, where db stands for
// the source):
//
//	store, _ := memstore.New(memstore.Options{MaxBytes: 256 << 20})
//	pipeline := hitbox.Chain(
//		layer.Compress(codec.Zstd()),
//		layer.Encode(),
//	).Then(store)
//
//	users := cache.New[User](pipeline, cache.Options{
//		Format:   codec.CBOR(),
//		TTL:      time.Minute,
//		StaleFor: 10 * time.Second,
//	})
//	u, err := users.GetOrLoad(ctx, hitbox.NewKey("users").WithInt("id", 42).String(),
//		func(ctx context.Context) (User, error) { return db.User(ctx, 42) })
//
// Cache[T] has typed Get, Lookup, Set, Delete and GetOrLoad: one load per
// key however many callers wait, stale-while-revalidate, stale-if-error.
// The contract it works over (Backend, Entry, layers, errors, keys) is
// package hitbox, which store and layer authors import alone.
//
// # Loading
//
// Beyond one load per key, Cache[T] can keep decoded values in memory
// (Options.Front: a fresh hit then costs a map lookup, not a decode), load
// a cold key about once across processes (Options.LockTTL, with a Locker
// such as store/redisstore), refresh hot keys shortly before they expire
// (Options.EarlyRefresh), remember "not found" (Options.MissTTL), spread
// expiries (Options.TTLJitter), and load a batch with one call of the
// source for only the keys it lacks (GetOrLoadMany). Per-call options
// (WithTTL, WithTags, SkipRead, RefreshNow) change one call.
//
// # Tags
//
// A write can carry tags, names of groups of entries ("user:42",
// "product:7"), and one call then drops every entry that carries one of
// them, whatever its key (Example_tags):
//
//	_ = users.Set(ctx, "users:42", User{ID: 42, Name: "Ada"}, cache.WithTags("user:42"))
//	_ = users.Set(ctx, "users:43", User{ID: 43, Name: "Bob"}, cache.WithTags("user:43"))
//	lead, _ := users.GetOrLoad(ctx, "teams:7:lead", func(ctx context.Context) (User, error) {
//		return User{ID: 42, Name: "Ada"}, nil // the source
//	}, cache.WithTags("user:42", "team:7"))
//	fmt.Println(lead.Name)
//
//	// User 42 changed: drop every entry about them.
//	if err := users.InvalidateTags(ctx, "user:42"); err != nil {
//		fmt.Println(err)
//	}
//
// The pipeline must have the hitbox.Tagger ability (every store and layer
// of this module has it); over one without it a tagged write or a purge
// fails with hitbox.ErrNotSupported. The decoded-object front drops tagged
// entries on this cache's purges and on an Invalidation with Tags from its
// bus.
//
// # Consistency
//
// No read that starts after a change (a Set, a Delete, a purge) returned
// gets what the change replaced, from a load that the change crossed
// either: a load returns its answer to its callers, but stores it only if
// no change of its key (or purge of one of its tags) happened since it
// began. Two guards make sure of it:
//
//   - Over a pipeline with the lease ability (hitbox.Leaser), the miss
//     that starts a load takes a lease on the key first (after the
//     cross-process lock, with LockTTL), and the load's store, a cached
//     "not found" included, goes through it: the pipeline refuses it,
//     atomically, when any change made anywhere crossed the load. This
//     costs a cold load one Lease call, and a hit nothing. GetOrLoadMany
//     takes one lease per missing key and stores each key through its own.
//   - In this process, whatever the pipeline: a Set, Delete or
//     InvalidateTags through this Cache, and a change heard on its front's
//     bus, stop the store of a load under way (without a lease, a local
//     change waits for a store already past its check, and reaches the
//     pipeline after it).
//     Over a pipeline without leases this is the only guard: a change made
//     by another instance, that this one does not hear of on a bus before
//     its load stores, is not seen, and the load's value may outlive it
//     until it expires.
//
// Either way the store is counted (Cache.ReportStats) and logged at debug
// level. A caller that joined a load in progress, rather than led it, gets
// its answer only when the store went through: when the store was refused,
// or failed (so no lease could refuse it), the caller may have begun after
// a change the load's answer predates, and it loads once more. A front whose bus reports a gap (hitbox.Invalidation.Down)
// answers no read and keeps nothing until the bus is back: see Front.
//
// # Errors
//
// A miss is hitbox.ErrMiss, never a nil value; options that cannot work
// panic with "hitbox/cache: Options.<field>: <why>" (Options.Validate
// returns the same message as an error), as every constructor of the
// module does.
package cache
