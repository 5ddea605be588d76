package tier

import (
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// The suite runs every check on a tier: its levels are shared maps, each
// seen through a namespace of its own (layer.Prefix) and a size limit
// (layer.MaxSize), so that a sibling tier in another namespace of the same
// maps shows that the tier's Clear, ClearPrefix and tag purges stay in its
// namespace, and an oversized value shows that the tier passes its levels'
// refusal up as it is.

// confLimit is the levels' size limit: above the sizes the suite
// round-trips, below its large value.
const confLimit = 1 << 20

// confOptions are the suite's options for a tier made by confLevels under
// the namespace "tier:" (a Prefix takes its length from every tag).
func confOptions(sibling func(t *testing.T, b hitbox.Backend) hitbox.Backend) hitboxtest.Options {
	return hitboxtest.Options{
		MaxValueSize: confLimit,
		MaxTagLen:    hitbox.MaxTagLen - len("tier:"),
		Sibling:      sibling,
	}
}

// siblings records the maps under each tier the suite builds, so its
// Sibling can build another tier over them.
type siblings struct {
	limit int // the levels' size limit; none when zero

	mu   sync.Mutex
	maps map[hitbox.Backend]confMaps
}

// confMaps are the maps under a tier and the clock they run on.
type confMaps struct {
	maps []*mapstore.Store
	now  func() time.Time
}

// levels returns the levels of a tier in namespace ns over maps: each map
// behind layer.Prefix(ns) and, with a limit, layer.MaxSize.
func (s *siblings) levels(ns string, maps []*mapstore.Store) []hitbox.Backend {
	out := make([]hitbox.Backend, len(maps))
	for i, m := range maps {
		out[i] = layer.Prefix(ns)(m)
		if s.limit > 0 {
			out[i] = layer.MaxSize(s.limit)(out[i])
		}
	}
	return out
}

func (s *siblings) record(b hitbox.Backend, m confMaps) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maps == nil {
		s.maps = make(map[hitbox.Backend]confMaps)
	}
	s.maps[b] = m
}

func (s *siblings) of(t *testing.T, b hitbox.Backend) confMaps {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.maps[b]
	if !ok {
		t.Fatalf("Sibling of a backend the suite did not build: %v", b)
	}
	return m
}

func TestConformance(t *testing.T) {
	t.Parallel()
	configs := []struct {
		name string
		opts Options
	}{
		{"sequential reads, write-through", Options{}},
		{"race reads, parallel writes", Options{Read: ReadRace, Write: WriteParallel}},
		{"race reads with finishing losers, background refill", Options{Read: ReadRace, Losers: LosersFinish, Refill: RefillBackground}},
		{"parallel reads, write-behind", Options{Read: ReadParallel, Write: WriteBehind}},
		{"with a bus", Options{Bus: hitbox.NewLocalBus()}},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			sib := siblings{limit: confLimit}
			newTier := func(t *testing.T, ns string, m confMaps) *Tier {
				opts := cfg.opts
				opts.Now = m.now
				tr := NewWith(opts, sib.levels(ns, m.maps)...)
				t.Cleanup(func() { _ = tr.Close() })
				return tr
			}
			suite := confOptions(func(t *testing.T, b hitbox.Backend) hitbox.Backend {
				return newTier(t, "sibling:", sib.of(t, b))
			})
			hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
				maps := []*mapstore.Store{
					mapstore.New(mapstore.Options{Label: "l1", Now: clock.Now}),
					mapstore.New(mapstore.Options{Label: "l2", Now: clock.Now}),
				}
				m := confMaps{maps: maps, now: clock.Now}
				tr := newTier(t, "tier:", m)
				sib.record(tr, m)
				return tr
			}, suite)
		})
	}
	t.Run("three levels, the middle one a tier", func(t *testing.T) {
		t.Parallel()
		sib := siblings{limit: confLimit}
		newTier := func(t *testing.T, ns string, m confMaps) *Tier {
			lv := sib.levels(ns, m.maps)
			inner := NewWith(Options{Label: "inner", Now: m.now}, lv[1], lv[2])
			tr := NewWith(Options{Now: m.now}, lv[0], inner)
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		}
		hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
			maps := []*mapstore.Store{
				mapstore.New(mapstore.Options{Label: "a", Now: clock.Now}),
				mapstore.New(mapstore.Options{Label: "b", Now: clock.Now}),
				mapstore.New(mapstore.Options{Label: "c", Now: clock.Now}),
			}
			m := confMaps{maps: maps, now: clock.Now}
			tr := newTier(t, "tier:", m)
			sib.record(tr, m)
			return tr
		}, confOptions(func(t *testing.T, b hitbox.Backend) hitbox.Backend {
			return newTier(t, "sibling:", sib.of(t, b))
		}))
	})
}
