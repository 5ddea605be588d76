package main

import (
	"context"
	"fmt"

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
	close    func()
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
	t := tier.NewWith(tier.Options{Bus: r.bus}, mem, r.store)
	return &store{
		backend:  t,
		l1:       mem,
		label:    "Tier(memory, redis)",
		describe: fmt.Sprintf("a tier of the in-process store over %s", r.describe),
		remote:   true,
		close: func() {
			r.clear()     // while the store is open
			_ = t.Close() // closes both levels
			r.close()
		},
	}, nil
}
