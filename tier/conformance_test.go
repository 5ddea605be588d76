package tier

import (
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	configs := []struct {
		name string
		opts Options
	}{
		{"sequential reads, write-through", Options{}},
		{"race reads, parallel writes", Options{Read: Race, Write: WriteParallel}},
		{"race reads with finishing losers, background refill", Options{Read: Race, Losers: Finish, Refill: RefillBackground}},
		{"parallel reads, write-behind", Options{Read: Parallel, Write: WriteBehind}},
		{"with a bus", Options{Bus: hitbox.NewLocalBus()}},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
				opts := cfg.opts
				opts.Now = clock.Now
				l1 := mapstore.New(mapstore.Options{Label: "l1", Now: clock.Now})
				l2 := mapstore.New(mapstore.Options{Label: "l2", Now: clock.Now})
				tr := NewWith(opts, l1, l2)
				t.Cleanup(func() { _ = tr.Close() })
				return tr
			}, hitboxtest.Options{})
		})
	}
	t.Run("three levels, the middle one a tier", func(t *testing.T) {
		t.Parallel()
		hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
			st := func(label string) hitbox.Backend {
				return mapstore.New(mapstore.Options{Label: label, Now: clock.Now})
			}
			inner := NewWith(Options{Label: "inner", Now: clock.Now}, st("b"), st("c"))
			tr := NewWith(Options{Now: clock.Now}, st("a"), inner)
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		}, hitboxtest.Options{})
	})
}
