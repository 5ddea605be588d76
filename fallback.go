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

// SourceHeeder is a Backend that says whether its reads ever depend on
// HasSource: true for a composite that may hold copies it cannot prove
// current (a tier with a bus and a shared level), false for a store. A
// caller with a source asks ReadsHeedSource once, and wraps each read's
// context with WithSource only when it matters, since that costs an
// allocation per read.
type SourceHeeder interface {
	HeedsSource() bool
}

// ReadsHeedSource reports whether reads through b may depend on
// WithSource. It walks b's layers (Unwrapper) down to the first
// SourceHeeder and returns its answer; when the walk ends at a backend
// that is neither, it returns true, since an unknown backend may heed it.
func ReadsHeedSource(b Backend) bool {
	for b != nil {
		if h, ok := b.(SourceHeeder); ok {
			return h.HeedsSource()
		}
		u, ok := b.(Unwrapper)
		if !ok {
			return true
		}
		b = u.Unwrap()
	}
	return true
}
