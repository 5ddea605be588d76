package hitbox_test

import (
	"context"
	"testing"

	"github.com/hitbox-go/hitbox"
)

func TestAnswer(t *testing.T) {
	t.Parallel()
	var zero hitbox.Answer
	if zero.Found() || zero.Level() != -1 || zero.Path() != "" {
		t.Fatalf("zero Answer: found=%v level=%d path=%q, want nothing", zero.Found(), zero.Level(), zero.Path())
	}
	if hitbox.AnswerFrom(context.Background()) != nil {
		t.Fatal("a bare context carries an Answer")
	}
	ctx, a := hitbox.TrackAnswer(context.Background())
	if hitbox.AnswerFrom(ctx) != a {
		t.Fatal("AnswerFrom does not return the tracked Answer")
	}

	// An inner composite "inner" answers from its part 1, "redis"; the outer
	// composite "outer" records that its part 2 (the inner one) answered.
	outer := a.Mark()
	inner := a.Mark()
	a.Record(inner, "inner", "redis", 1)
	a.Record(outer, "outer", "ignored: the inner path is kept", 2)
	if got := a.Path(); got != "outer.inner.redis" || a.Level() != 2 {
		t.Errorf("nested: path %q level %d, want outer.inner.redis level 2", got, a.Level())
	}

	// A layer between the two turned the inner hit into a miss: Undo takes
	// it back, and the outer composite's next part answers.
	a.Reset()
	m := a.Mark()
	a.Record(a.Mark(), "inner", "redis", 1)
	a.Undo(m)
	a.Record(m, "outer", "disk", 3)
	if got := a.Path(); got != "outer.disk" || a.Level() != 3 {
		t.Errorf("after Undo: path %q level %d, want outer.disk level 3", got, a.Level())
	}

	// Parts asked concurrently record into Answers of their own; the winner
	// is adopted.
	a.Reset()
	child := new(hitbox.Answer)
	child.Record(child.Mark(), "inner", "memory", 0)
	m = a.Mark()
	a.Adopt(child)
	a.Record(m, "outer", "unused", 1)
	if got := a.Path(); got != "outer.inner.memory" || a.Level() != 1 {
		t.Errorf("adopted: path %q level %d, want outer.inner.memory level 1", got, a.Level())
	}
	if a.Unproven() {
		t.Error("a hit no composite marked is unproven")
	}

	// A copy its composite could not prove current is marked, through
	// Adopt, and forgotten by Undo and Reset.
	a.Reset()
	child.Reset()
	child.Record(child.Mark(), "inner", "memory", 0)
	child.MarkUnproven()
	m = a.Mark()
	a.Adopt(child)
	a.Record(m, "outer", "unused", 1)
	if !a.Unproven() {
		t.Error("an adopted unproven answer is not unproven")
	}
	a.Undo(m)
	if a.Unproven() {
		t.Error("unproven after Undo took the hit back")
	}
	a.Record(a.Mark(), "outer", "memory", 0)
	a.MarkUnproven()
	a.Reset()
	if a.Unproven() {
		t.Error("unproven after Reset")
	}
}

// BenchmarkAnswerFromNone is what a composite pays per Get when nobody
// asked which part answered: one context lookup.
func BenchmarkAnswerFromNone(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if hitbox.AnswerFrom(ctx) != nil {
			b.Fatal("found one")
		}
	}
}
