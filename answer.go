package hitbox

import (
	"context"
	"strings"
)

type answerKey struct{}

// Answer records which backend of a composite (a tier, nested tiers, any
// third-party backend made of others) answered a Get, so an observer above
// it (a trace layer, an HTTP cache writing Cache-Status, a program printing
// where a value came from) can tell without knowing the composite's type.
//
// An observer calls TrackAnswer, passes the returned context down the
// pipeline and reads the Answer once Get has returned. A composite calls
// AnswerFrom at the start of a Get and, when one of its parts hits, records
// it with Mark and Record. A read through a context that carries no Answer
// costs a composite one context lookup and nothing else.
//
// An Answer describes one Get; batch reads do not fill it in. Reuse one for
// another read only after Reset. It is not safe for concurrent use: give
// each concurrent read its own.
type Answer struct {
	level    int
	hops     []string // labels, innermost first
	unproven bool
}

// TrackAnswer returns a context that carries a new, empty Answer, and that
// Answer.
func TrackAnswer(ctx context.Context) (context.Context, *Answer) {
	a := &Answer{level: -1}
	return ContextWithAnswer(ctx, a), a
}

// ContextWithAnswer returns a context that carries a, for observers that
// keep an Answer per goroutine (in a sync.Pool, say) instead of allocating
// one per read. a must be new (a zero Answer will do) or Reset.
func ContextWithAnswer(ctx context.Context, a *Answer) context.Context {
	return context.WithValue(ctx, answerKey{}, a)
}

// AnswerFrom returns the Answer that ctx carries, or nil when it carries
// none. Composites record into it; a layer that reports the answer (a trace
// layer) reads it rather than attaching its own, which would hide the
// answer from the caller.
func AnswerFrom(ctx context.Context) *Answer {
	a, _ := ctx.Value(answerKey{}).(*Answer)
	return a
}

// Found reports whether a part of a composite answered with a hit. It looks
// at the path alone, so a zero Answer and one whose hit a layer took back
// both say no.
func (a *Answer) Found() bool { return len(a.hops) > 0 }

// Level returns the index of the part of the outermost composite that
// answered (0 is a tier's L1), or -1 when none did.
func (a *Answer) Level() int {
	if !a.Found() {
		return -1
	}
	return a.level
}

// Path returns the labels from the outermost composite down to the backend
// that answered, joined with dots: "tier.memory" for an L1 hit in a tier
// labelled "tier" over a store labelled "memory", "outer.inner.redis" for a
// hit in the "redis" level of a tier labelled "inner" that is a level of
// "outer". It is "" when nothing answered.
func (a *Answer) Path() string {
	switch len(a.hops) {
	case 0:
		return ""
	case 2:
		return a.hops[1] + "." + a.hops[0]
	}
	var b strings.Builder
	for i := len(a.hops) - 1; i >= 0; i-- {
		b.WriteString(a.hops[i])
		if i > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// Unproven reports whether the hit came from a copy its composite could
// not prove current: a tier whose bus may have stopped delivering, and
// whose shared levels failed, answered from a local copy rather than fail
// the read (stale-if-error). Such a value may be one that a change made
// on another instance has replaced; a caller that must not act on that
// can treat the read as failed.
func (a *Answer) Unproven() bool { return a.unproven && a.Found() }

// MarkUnproven notes that the answer recorded is a copy the composite
// could not prove current (see Unproven). A composite calls it after
// Record.
func (a *Answer) MarkUnproven() { a.unproven = true }

// Reset empties a for another read.
func (a *Answer) Reset() {
	a.level = -1
	a.hops = a.hops[:0]
	a.unproven = false
}

// Mark returns a position to pass to Record or Undo: a composite takes it
// before it asks a part, so it can tell what that part recorded itself.
func (a *Answer) Mark() int { return len(a.hops) }

// Record notes that part index (0 is L1) labelled part of the composite
// labelled composite answered. When a composite inside that part recorded
// its own path since mark, that path is kept and the composite's label is
// put above it; otherwise the part's label is. It is kept out of line so it
// does not weigh on a composite's fast path.
//
//go:noinline
func (a *Answer) Record(mark int, composite, part string, index int) {
	if len(a.hops) == mark {
		a.hops = append(a.hops, part)
	}
	a.hops = append(a.hops, composite)
	a.level = index
}

// Undo forgets whatever was recorded since mark, for a part whose hit a
// layer above a nested composite turned into a miss.
func (a *Answer) Undo(mark int) {
	a.hops = a.hops[:mark]
	a.unproven = false // it described the hit taken back
}

// Adopt appends what child recorded, for a composite that gave a part its
// own Answer (parts asked concurrently must not share one) and then takes
// that part's answer. Call Record afterwards with the mark taken before.
func (a *Answer) Adopt(child *Answer) {
	a.hops = append(a.hops, child.hops...)
	a.unproven = a.unproven || child.unproven
}
