// Package hitbox is the contract of a cache framework in the shape of an
// HTTP middleware stack: every concern of caching is a Layer that wraps a
// Backend, and a whole pipeline is one expression, outermost layer first,
// ending in a store or a tier (ExampleChain):
//
//	store, _ := memstore.New(memstore.Options{MaxBytes: 256 << 20})
//	pipeline := hitbox.Chain(
//		layer.Compress(codec.Zstd()),
//		layer.Encode(),
//	).Then(store)
//	_ = pipeline.Set(ctx, "users:id=42", hitbox.Entry{Value: []byte("Ada")})
//	e, err := pipeline.Get(ctx, "users:id=42")
//
// This package is what a store or layer author imports, and it links only
// the standard library, as database/sql/driver does for database/sql.
// Applications call the typed cache of package cache over a pipeline:
// typed Get, Set, Delete and GetOrLoad (one load per key however many
// callers wait, stale-while-revalidate, stale-if-error).
//
// # Roles
//
// Implementers write a Backend: Get, Set and Delete of an Entry (the value
// as bytes plus its Stale and Expire deadlines) and a Label. Every layer
// and store works on bytes, so each is written once for every type.
//
// A Backend may also have optional abilities, each a small interface of its
// own. The package helpers GetMany, SetMany, DeleteMany, Remove, Clear,
// ClearPrefix, TryLock, SetTagged, GetTagged, InvalidateTags and Close use
// an ability when the backend has it and fall back (a loop; a Get then a
// Delete for Remove) when it does not, so callers never test for one.
// Clear, ClearPrefix, TryLock and the tag helpers have no safe fallback and
// say ErrNotSupported instead. A layer forwards every optional ability by
// calling these helpers on the backend it wraps.
//
// # Tags
//
// Tags travel beside an entry, not in it: Tagger is a Backend ability
// (SetTagged, GetTagged, InvalidateTags). Over a backend without it a
// tagged write or a purge fails with ErrNotSupported rather than store an
// entry no purge could reach. A purge costs O(1) per tag, not a scan: a
// Tagger keeps a random version per tag, and an entry written with older
// versions reads as a miss.
//
// # Shared contracts
//
// A few contracts are shared by the packages around this one, so they live
// here and no sibling imports another:
//
//   - Invalidation, Bus and Publisher carry "these keys changed elsewhere"
//     between instances that share a store, so local copies (a tier's L1,
//     an HTTP cache's, a decoded-object front) drop them. LocalBus connects
//     subscribers within one process; store/redisstore has the Redis buses.
//   - Answer records which part of a composite (a tier, nested tiers, any
//     backend made of others) answered a Get: TrackAnswer attaches one to a
//     context, a composite records into AnswerFrom(ctx), and the observer
//     reads Path and Level. It costs nothing when nobody asks.
//   - The Op constants name operations, one spelling each, in every *Error
//     and in the otel layers' attributes.
//   - Stamper lets a store in this process prove a key unchanged since a
//     read without reading it again (memstore has it), so httpcache's
//     front of hot responses answers from what it decoded.
//   - Stat is one figure a backend reports about itself (a tier's hits per
//     level, say), which the otel Metrics layer publishes.
//
// # Constructors
//
// Every constructor in this module follows one rule. Zero values mean
// defaults: an Options{} (or a field left zero) is always valid. Options
// that cannot work (a negative size, an index out of range, an unknown
// enum value, contradictory settings) are programmer errors, and every
// constructor reports them the same way: it panics with a message
// "hitbox/<package>: <Options field>: <why>", such as
// "hitbox/tier: Options.Required[1]: level 2 of 2 does not exist". Each
// Options type has a Validate method that returns exactly that message as
// an error (tier's takes the number of levels, which its options refer
// to), for a program that reads its options from configuration and wants
// an error rather than a panic. A constructor returns an error only for what can
// fail outside the program: I/O, a server, a resource. Loggers and clocks
// are resolved once, at construction: a nil Logger is a discarding one and
// a nil Now is time.Now. The otel package keeps functional options, the
// OpenTelemetry convention, under the same rule.
//
// # Errors
//
// A miss is the sentinel ErrMiss, never a nil value. Failures wrap the
// sentinels ErrCorrupt, ErrTooLarge, ErrUnavailable, ErrClosed,
// ErrInvalidKey and ErrNotSupported, usually inside an *Error that names
// the operation and the backend; test them with errors.Is.
package hitbox
