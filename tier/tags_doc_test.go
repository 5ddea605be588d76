package tier_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/tier"
)

// TestDocTags runs the package doc's tags snippet: two instances over one
// shared level, a purge on one reaching every copy.
func TestDocTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l1a, l1b := mapstore.New(mapstore.Options{}), mapstore.New(mapstore.Options{})
	shared := unclosed{mapstore.New(mapstore.Options{})}
	bus := hitbox.NewLocalBus()
	e := hitbox.Entry{Value: []byte("alice"), Expire: time.Now().Add(time.Hour)}

	a := tier.NewWith(tier.Options{Bus: bus}, l1a, shared)
	b := tier.NewWith(tier.Options{Bus: bus}, l1b, shared)
	_ = a.SetTagged(ctx, "user:42:profile", e, []string{"user:42"})
	_, _ = b.Get(ctx, "user:42:profile")    // b's L1 copy keeps the tag
	err := a.InvalidateTags(ctx, "user:42") // shared, a's L1, then b's L1 over the bus

	defer a.Close()
	defer b.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*mapstore.Store{l1a, l1b, shared.Store} {
		if s.Len() != 0 {
			t.Errorf("a level holds %d entries after the purge", s.Len())
		}
	}
	if _, err := b.Get(ctx, "user:42:profile"); !errors.Is(err, hitbox.ErrMiss) {
		t.Errorf("b reads the purged entry: %v", err)
	}
}

// unclosed shares a store between tiers: closing a tier leaves it open.
type unclosed struct{ *mapstore.Store }

func (unclosed) Close() error { return nil }
