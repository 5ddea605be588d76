package main

import (
	"context"
	"strings"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// store is the backend the tour runs on, with what it needs to describe it.
type store struct {
	backend  hitbox.Backend
	label    string // short name for tables
	describe string // one line for the header
	remote   bool
	close    func()
}

func (s *store) pipeline(layers ...string) string {
	return strings.Join(append(layers, s.label), " → ")
}

func openStore(ctx context.Context, cfg config) (*store, error) {
	if cfg.redisAddr != "" {
		return openRedis(ctx, cfg.redisAddr)
	}
	mem, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		return nil, err
	}
	return &store{
		backend:  mem,
		label:    "memory",
		describe: "the in-process store (bigcache, 64 MiB cap)",
		close:    func() { _ = mem.Close() },
	}, nil
}
