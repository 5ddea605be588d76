// Package hitbox is a cache framework in the shape of an HTTP middleware
// stack: every concern of caching is a Layer that wraps a Backend, and a
// whole pipeline is one expression, outermost layer first, ending in a store
// or a tier.
//
//	store, _ := memstore.New(memstore.Options{MaxBytes: 256 << 20})
//	pipeline := hitbox.Chain(
//		layer.Compress(codec.Zstd()),
//		layer.Encode(),
//	).Then(store)
//
//	users := hitbox.New[User](pipeline, hitbox.Options{
//		Format:   codec.CBOR(),
//		TTL:      time.Minute,
//		StaleFor: 10 * time.Second,
//	})
//	u, err := users.GetOrLoad(ctx, hitbox.NewKey("users").WithInt("id", 42).String(),
//		func(ctx context.Context) (User, error) { return db.User(ctx, 42) })
//
// # Roles
//
// Users call Cache[T]: typed Get, Set, Delete and GetOrLoad (one load per
// key however many callers wait, stale-while-revalidate, stale-if-error).
// Implementers write a Backend: Get, Set and Delete of an Entry (the value
// as bytes plus its Stale and Expire deadlines) and a Label. Typed values
// become bytes once, at the top; below it every layer and store works on
// bytes, so each is written once for every type.
//
// A Backend may also have optional abilities, each a small interface of its
// own: BatchGetter, BatchSetter, BatchDeleter, Clearer, Closer. The package
// helpers GetMany, SetMany, DeleteMany, Clear and Close use an ability when
// the backend has it and fall back to a loop when it does not, so callers
// never test for one.
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
//
// # Errors
//
// A miss is the sentinel ErrMiss, never a nil value. Failures wrap the
// sentinels ErrCorrupt, ErrTooLarge, ErrUnavailable, ErrClosed,
// ErrInvalidKey and ErrNotSupported, usually inside an *Error that names
// the operation and the backend; test them with errors.Is.
package hitbox
