package cache_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/tier"
)

// TestLoadRatherThanUnprovenCopy checks that GetOrLoad and GetOrLoadMany,
// over a tier whose bus is down and whose shared level fails, load from
// the source rather than serve the tier's L1 copy, which another
// instance's change may have replaced unheard; and that they serve that
// copy when the source fails too, so the outage fails no call.
func TestLoadRatherThanUnprovenCopy(t *testing.T) {
	t.Parallel()
	for _, many := range []bool{false, true} {
		name := "GetOrLoad"
		if many {
			name = "GetOrLoadMany"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			bus := hitbox.NewLocalBus()
			l2 := faulty.Wrap(mapstore.New(mapstore.Options{Label: "l2"}))
			tr := tier.NewWith(tier.Options{Bus: bus, Breaker: tier.Breaker{Failures: -1}},
				mapstore.New(mapstore.Options{Label: "l1"}), l2)
			c := cache.New[string](tr, cache.Options{})
			defer func() {
				_ = c.Close()
				_ = tr.Close()
			}()
			if err := c.Set(ctx, "k", "old"); err != nil {
				t.Fatal(err)
			}
			bus.Interrupt()
			l2.FailAll(errors.New("shared level cut off"))
			// Meanwhile another instance replaced k; the source has "new".
			source, sourceErr := "new", error(nil)
			get := func() (string, error) {
				if many {
					got, err := c.GetOrLoadMany(ctx, []string{"k"}, func(context.Context, []string) (map[string]string, error) {
						if sourceErr != nil {
							return nil, sourceErr
						}
						return map[string]string{"k": source}, nil
					})
					return got["k"], err
				}
				return c.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return source, sourceErr })
			}
			sourceErr = errors.New("source down too")
			if v, _ := get(); v != "old" {
				t.Errorf("source failing too: %s = %q; want the L1 copy old (stale-if-error)", name, v)
			}
			sourceErr = nil
			if v, err := get(); v != "new" {
				t.Errorf("bus down, shared level failing: %s = %q, %v; want new from the source, not the L1 copy", name, v, err)
			}
		})
	}
}
