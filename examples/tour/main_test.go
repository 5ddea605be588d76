package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

// The tour is the README's main job: it must run to the end and show each
// thing it promises, on the in-process store and on Redis.
func TestTour(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  func(t *testing.T) config
		want []string
	}{
		// Fewer compression rounds than the tour's own: a loaded machine
		// under -race takes seconds over gzip's and zstd's 2000.
		{"the tour runs on the in-process store by default", func(*testing.T) config { return config{rounds: 100} },
			[]string{"fresh from memory: Ada Lovelace"}},
		{"the tour runs a tier over Redis when given an address", func(t *testing.T) config {
			return config{redisAddr: redistest.Start(t).Addr, rounds: 50}
		}, []string{
			"fresh from tier.memory: Ada Lovelace", "fresh from tier.redis: Ada Lovelace",
			`B reads "hello" from tier.memory`, "B's L1 dropped its copy", `B reads "bonjour" from tier.redis`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			cfg := tt.cfg(t)
			if err := run(ctx, &out, cfg); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if cfg.redisAddr != "" {
				client := redis.NewClient(&redis.Options{Addr: cfg.redisAddr})
				defer client.Close()
				if n, err := client.DBSize(ctx).Result(); err != nil || n != 0 {
					t.Errorf("the tour left %d keys in Redis (%v)", n, err)
				}
			}
			for _, want := range append(tt.want,
				"miss",
				"8 callers, 1 load, 8 same answers",
				"Grace Hopper",
				"get      hit",
				"zstd",
			) {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the tour's output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
