package tier

import (
	"context"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// missAll is a layer that turns every hit into a miss, as a layer that
// finds damaged bytes would.
type missAll struct{ hitbox.Backend }

func (missAll) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, hitbox.ErrMiss
}

func TestSourceAfterATakenBackHit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	var zero hitbox.Answer
	if zero.Found() || zero.Level() != -1 || zero.Path() != "" {
		t.Fatalf("a zero Source says found=%v level=%d path=%q, want nothing found", zero.Found(), zero.Level(), zero.Path())
	}

	// The inner tier hits, a layer above it turns the hit into a miss, and
	// the outer tier's other level misses too: the Source must say so.
	store := mapstore.New(mapstore.Options{Label: "redis"})
	_ = store.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
	inner := NewWith(Options{Label: "inner"}, store)
	outer := NewWith(Options{Label: "outer"}, missAll{inner}, mapstore.New(mapstore.Options{Label: "disk"}))
	closeT(t, outer)

	tctx, src := hitbox.TrackAnswer(ctx)
	if _, err := outer.Get(tctx, "k"); err != hitbox.ErrMiss {
		t.Fatalf("Get = %v, want a miss", err)
	}
	if src.Found() || src.Level() != -1 || src.Path() != "" {
		t.Errorf("after a taken-back hit the Source says found=%v level=%d path=%q", src.Found(), src.Level(), src.Path())
	}
}
