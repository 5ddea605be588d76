package tier

import (
	"context"
	"strings"
)

type sourceKey struct{}

// Source records which level answered a read, for metrics and traces. Get
// it from WithTrace, pass the returned context down the pipeline, and read
// it once Get has returned: every tier the read passes through fills it in
// when one of its levels answers with a hit, through any layers in between.
//
// A Source describes one Get; GetMany does not fill it in. Reuse one for
// another read only after Reset. It is not safe for concurrent use: give
// each concurrent read its own.
type Source struct {
	level int
	hops  []string // labels, innermost first
}

// WithTrace returns a context that carries a new, empty Source, and that
// Source. A read through a context without one costs the tier nothing.
func WithTrace(ctx context.Context) (context.Context, *Source) {
	s := &Source{level: -1}
	return ContextWithSource(ctx, s), s
}

// ContextWithSource returns a context that carries s, for callers that keep
// a Source per goroutine (in a sync.Pool, say) instead of allocating one
// per read. s must be new (a zero Source will do) or Reset.
func ContextWithSource(ctx context.Context, s *Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

func sourceFrom(ctx context.Context) *Source {
	s, _ := ctx.Value(sourceKey{}).(*Source)
	return s
}

// Found reports whether a tier level answered with a hit. It looks at the
// path alone, so a zero Source and one a layer's miss took back both say no.
func (s *Source) Found() bool { return len(s.hops) > 0 }

// Level returns the index of the level of the outermost tier that
// answered (0 is L1), or -1 when none did.
func (s *Source) Level() int {
	if !s.Found() {
		return -1
	}
	return s.level
}

// Path returns the labels from the outermost tier down to the backend that
// answered, joined with dots: "tier.memory" for an L1 hit in a tier
// labelled "tier" over a store labelled "memory", "outer.inner.redis" for a
// hit in the "redis" level of a tier labelled "inner" that is a level of
// "outer". It is "" when no level answered.
func (s *Source) Path() string {
	switch len(s.hops) {
	case 0:
		return ""
	case 2:
		return s.hops[1] + "." + s.hops[0]
	}
	var b strings.Builder
	for i := len(s.hops) - 1; i >= 0; i-- {
		b.WriteString(s.hops[i])
		if i > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// Reset empties s for another read.
func (s *Source) Reset() {
	s.level = -1
	s.hops = s.hops[:0]
}

// mark returns where a level's own hops will start.
func (s *Source) mark() int { return len(s.hops) }

// hit records that level i of the tier labelled tier answered. When a tier
// inside that level has recorded its own path since mark, that path is
// kept and the tier's label is put above it; otherwise the level's label
// is. It is kept out of line so it does not weigh on Get's fast path.
//
//go:noinline
func (s *Source) hit(mark int, tier, level string, i int) {
	if len(s.hops) == mark {
		s.hops = append(s.hops, level)
	}
	s.hops = append(s.hops, tier)
	s.level = i
}

// undo forgets whatever a level recorded since mark, for a hit that a layer
// above the nested tier turned into a miss.
func (s *Source) undo(mark int) { s.hops = s.hops[:mark] }

// SourceFrom returns the Source that ctx carries, or nil when it carries
// none, for a layer that reports which level answered (the otel Trace
// layer): it reads the caller's Source rather than attaching its own, which
// would hide the answer from the caller.
func SourceFrom(ctx context.Context) *Source { return sourceFrom(ctx) }
