package hitbox

import "context"

type sourceKey struct{}

// WithSource returns a context that says the caller of a read has a
// source of truth to load from (a typed cache's GetOrLoad, say). A
// composite that would answer the read from a copy it cannot prove
// current, because the part that could prove it failed (a tier's local
// copy, read while its bus is down and its shared level fails), returns
// that part's error instead: the caller loads from its source, which is
// current, and asks again without WithSource only if the source fails
// too. Without it, such a composite answers from the copy
// (stale-if-error), so that an outage fails no read a copy can answer.
func WithSource(ctx context.Context) context.Context {
	if HasSource(ctx) {
		return ctx
	}
	return context.WithValue(ctx, sourceKey{}, true)
}

// HasSource reports whether ctx came from WithSource: whether a composite
// should fail a read rather than answer it from a copy it cannot prove
// current.
func HasSource(ctx context.Context) bool {
	v, _ := ctx.Value(sourceKey{}).(bool)
	return v
}
