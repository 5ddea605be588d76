// Package otel measures and traces hitbox pipelines with OpenTelemetry:
// Metrics and Trace are layers, so any pipeline, or any level of one,
// becomes observable by listing them in its chain. It uses the
// OpenTelemetry API only; the application picks the SDK and the
// exporters. Import it under an alias, hitboxotel, so it does not collide
// with the OpenTelemetry API's own otel package beside it (the package's
// Example):
//
//	pipeline := hitbox.Chain(
//		hitboxotel.Trace(),   // one span per operation of the whole pipeline
//		hitboxotel.Metrics(), // counts, durations and bytes, by result
//		layer.Encode(),
//	).Then(store)
//
// Both layers use the global providers as they stand when the pipeline is
// built, or the ones given with WithMeterProvider and WithTracerProvider.
//
// Unlike the rest of hitbox, which takes an Options struct, this package
// takes functional options (WithLabel, WithClock, ...): that is the
// OpenTelemetry ecosystem's convention (otelhttp, otelgrpc), so the layers
// read like their neighbours in an instrumented program. The module's
// constructor rule (see package hitbox) holds all the same: no option is
// required, an option that cannot work makes Metrics and Trace panic with
// "hitbox/otel: <option>: <why>", and Validate returns that message as an
// error.
// With the API's no-op providers each layer adds a few nanoseconds and no
// allocation to a call; keys are never recorded.
//
// # Instruments
//
// The Metrics layer makes these instruments; the Prometheus names are what
// the OpenTelemetry Prometheus exporter shows by default.
//
//	Name                       Kind       Unit         Attributes (hitbox. omitted)     Prometheus
//	hitbox.operations          counter    {operation}  operation, backend, [level],     hitbox_operations_total
//	                                                   result, [error.type]
//	hitbox.operation.duration  histogram  s            operation, backend, [level],     hitbox_operation_duration_seconds
//	                                                   result, [error.type]
//	hitbox.io                  counter    By           operation, backend, [level],     hitbox_io_bytes_total
//	                                                   io.direction
//	hitbox.<name>              gauge or   as reported  backend, [level]                 hitbox_<name>[_<unit>][_total]
//	                           counter
//
// hitbox.operations counts keys: a single-key call adds one, a batch of n
// keys adds n, an invalidatetags of n tags adds n, each key with its own
// result in a getmany (a failure of the whole batch counts every key as
// failed). hitbox.operation.duration records one value per call, a batch's
// result being ok or error; its bucket bounds run from 1 µs to 10 s.
// hitbox.io counts the bytes of the values returned by hits and stale
// answers (read) and of the values stored by successful sets (written).
// hitbox.<name> are the figures of a backend under the layer that implements
// Reporter (entries held, work dropped), published while the layer is open.
//
// # Spans
//
// The Trace layer starts one span per call, named hitbox.get, hitbox.set,
// hitbox.delete, hitbox.getmany, hitbox.setmany, hitbox.deletemany,
// hitbox.remove, hitbox.clear, hitbox.clearprefix, hitbox.invalidatetags or
// hitbox.lease (a tagged or leased write is a hitbox.set, a tagged read a
// hitbox.get), of kind
// internal (WithSpanKind changes it, for a store that does network I/O). A
// failed call records its error and sets the span's status to Error; a miss
// is an answer, not an error, and leaves the status unset. Trace layers at
// several depths of a pipeline give nested spans, each the parent of the
// next, so a trace shows which layer or level answered.
//
// # Attributes
//
// OpenTelemetry has no semantic conventions for caches yet; these names are
// defined once, in this package, and only error.type is borrowed from the
// general conventions, for what they define it as.
//
//	Attribute            On              Values
//	hitbox.operation     metrics, spans  get, set, delete, getmany, setmany, deletemany, remove, clear,
//	                                     clearprefix, invalidatetags, lease (a tagged or leased write
//	                                     is a set, a tagged read a get)
//	hitbox.backend       metrics, spans  the wrapped backend's Label(), or WithLabel's value
//	hitbox.level         metrics, spans  WithLevel's value (a tier level such as l1); absent by default
//	hitbox.result        metrics, spans  hit, stale, miss (gets; a remove of an absent key);
//	                                     ok (writes, deletes, clears, batches, leases); lost (a
//	                                     leased write a change crossed: nothing stored); error
//	error.type           metrics, spans  only with result error: corrupt, too_large, unavailable, timeout,
//	                                     canceled, closed, invalid_key, invalid_tag, not_supported, other
//	hitbox.io.direction  hitbox.io       read, write
//	hitbox.value.size    spans           bytes of the value read or written (summed over a batch)
//	hitbox.tags.count    spans           tags of a tagged or leased set, a lease or an invalidatetags
//	                                     (never the tags)
//	hitbox.batch.size    spans           keys or items in a batch
//	hitbox.batch.hits,   getmany spans   answers of a batch read, by result
//	.stale, .misses,
//	.errors
//	hitbox.key.hash      spans           only with WithKeyHash: 16 hex digits of an HMAC-SHA256 of the key
//	hitbox.tier.path     get spans       over a tier, on a hit: the level path that answered (tier.memory,
//	                                     outer.inner.redis)
//	hitbox.tier.level    get spans       over a tier, on a hit: the index of the level that answered, 0 for L1
//
// A hit is a fresh entry; stale is an entry past its Stale deadline (served
// while it is refreshed). The error classes follow the hitbox sentinel
// errors (ErrCorrupt, ErrTooLarge, ErrUnavailable, ErrClosed,
// ErrInvalidKey, ErrInvalidTag, ErrNotSupported); the caller's context comes first, so a
// store that wraps context.DeadlineExceeded in ErrUnavailable counts as
// timeout, and context.Canceled, the caller giving up, is canceled rather
// than other, so it can be left out of alerts on backend health. Errors
// are recorded on spans with their messages, which name the operation and
// the backend but, from hitbox's stores and layers, never the key.
//
// # Tiers
//
// A tier is a backend like any other, so the layers wrap it whole; they
// wrap each of its levels as well, each told which level it is with
// WithLevel, so nothing new is needed to see inside a tier (Example_tier):
//
//	l1 := hitbox.Chain(
//		hitboxotel.Trace(hitboxotel.WithLevel("l1")),
//		hitboxotel.Metrics(hitboxotel.WithLevel("l1")),
//	).Then(memory)
//	l2 := hitbox.Chain(
//		hitboxotel.Trace(hitboxotel.WithLevel("l2"), hitboxotel.WithSpanKind(trace.SpanKindClient)),
//		hitboxotel.Metrics(hitboxotel.WithLevel("l2")),
//	).Then(redis)
//	pipeline := hitbox.Chain(hitboxotel.Trace(), hitboxotel.Metrics()).Then(tier.New(l1, l2))
//
// Which level answered a read then shows as the hit in that level's
// hitbox.operations series (hitbox.level="l2"), and in a trace as the
// innermost span with result hit under the pipeline's span.
//
// A get span over a tier also says so itself, with no Trace layer inside
// the tier: the tier reports the level that answered a hit through a
// hitbox.Answer, and the span records its path and index as
// hitbox.tier.path ("tier.memory", or "outer.inner.redis" through nested
// tiers) and hitbox.tier.level (0 for L1). A caller that asked the tier
// itself, with hitbox.TrackAnswer, still gets its answer: the layer uses
// the caller's Answer when the context carries one. Batch reads do not record
// a path, as a tier reports none for them. Metrics keeps to its fixed
// attribute sets and does not count by path; per-level series come from a
// Metrics layer over each level, told which with WithLevel, as above. A
// tier that
// implements Reporter publishes its own figures (refills, offloaded work)
// through the pipeline's Metrics layer, one series per level where a
// figure is per level.
package otel
