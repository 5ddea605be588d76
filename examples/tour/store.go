package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/tier"
)

// store is the end of the tour's pipelines: the in-process store alone, or
// a tier of it over Redis when an address is given.
type store struct {
	backend  hitbox.Backend
	l1       *memstore.Store
	label    string // short name for tables and the pipeline line
	describe string // one line for the header
	remote   bool
	keep     bool // -keep: leave the keys in Redis
	// other builds a second instance's tier over the same shared level and
	// bus, on its own L1; nil without Redis.
	other func(l1 hitbox.Backend) *tier.Tier
	bus   hitbox.Bus
	close func()
}

func openStore(ctx context.Context, cfg config) (*store, error) {
	mem, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		return nil, err
	}
	if cfg.redisAddr == "" {
		return &store{
			backend:  mem,
			l1:       mem,
			label:    "memory",
			describe: "the in-process store (bigcache, 64 MiB cap)",
			close:    func() { _ = mem.Close() },
		}, nil
	}
	r, err := openRedis(ctx, cfg.redisAddr)
	if err != nil {
		_ = mem.Close()
		return nil, err
	}
	opts := tier.Options{
		Bus:       r.bus,
		OwnWrites: time.Second,                  // this process's own writes keep their L1 copies
		MaxTTL:    []time.Duration{time.Minute}, // however coherent, an L1 copy lives a minute at most
	}
	t := tier.NewWith(opts, mem, r.store)
	// Connecting clears L1 once; wait for it so it cannot happen mid-tour.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.ready(rctx); err != nil {
		_ = t.Close()
		r.close()
		return nil, fmt.Errorf("redis invalidation bus: %w", err)
	}
	return &store{
		backend:  t,
		l1:       mem,
		label:    "Tier(memory, redis)",
		describe: fmt.Sprintf("a tier of the in-process store over %s", r.describe),
		remote:   true,
		keep:     cfg.keep,
		bus:      r.bus,
		other: func(l1 hitbox.Backend) *tier.Tier {
			// The second tier must not close the shared store: only L1 is its own.
			return tier.NewWith(opts, l1, unclosable{r.store})
		},
		close: func() {
			if !cfg.keep {
				r.clear() // while the store is open
			}
			_ = t.Close() // closes both levels
			r.close()
		},
	}, nil
}

// unclosable shares a backend with a tier that must not close it.
type unclosable struct{ hitbox.Backend }
