package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// redisPrefix keeps the proxy's keys apart from anything else on a shared
// Redis server; every instance of the proxy uses it, so they share responses.
const redisPrefix = "hitbox-proxy:"

// storage is the end of the proxy's pipeline: the in-process store alone,
// or a tier of it over Redis.
type storage struct {
	backend  hitbox.Backend
	describe string
	// maxValue is the largest stored response the levels accept; the
	// middleware passes bigger bodies through unstored.
	maxValue int64
	// keys lists the stored keys that start with a prefix, for the admin
	// listener's GET /cache; nil when the levels cannot list keys.
	keys  func(ctx context.Context, prefix string) ([]string, error)
	close func() error
}

// openStorage builds the levels: an in-process store of memBytes, and, when
// redisAddr is set, Redis under it, with Redis's client tracking keeping
// every instance's in-process level coherent (as examples/tour does).
func openStorage(ctx context.Context, memBytes int64, redisAddr string) (*storage, error) {
	// A stored response must fit in half a shard (memstore's rule): fewer,
	// larger shards than the default let responses up to 8 MiB be stored.
	// Many shards for a big store (less lock contention, and bigcache
	// indexes a shard with 32 bits), fewer for a small one.
	shards := 16
	for shards < 1024 && (memBytes&^(1<<20-1))/int64(shards) > 1<<30 {
		shards *= 2
	}
	for shards > 1 && (memBytes&^(1<<20-1))/int64(shards) < 2*(8<<20) {
		shards /= 2
	}
	shard := (memBytes &^ (1<<20 - 1)) / int64(shards)
	// 1 KiB below half a shard leaves room for the key and record header.
	maxValue := min(shard/2-1024, 8<<20)
	mem, err := memstore.New(memstore.Options{MaxBytes: memBytes, Shards: shards, MaxValueSize: int(maxValue)})
	if err != nil {
		return nil, err
	}
	if redisAddr == "" {
		return &storage{
			backend:  mem,
			describe: fmt.Sprintf("memory (%s)", formatSize(memBytes)),
			maxValue: maxValue,
			close:    mem.Close,
		}, nil
	}

	var ropts *redis.Options
	if strings.Contains(redisAddr, "://") {
		if ropts, err = redis.ParseURL(redisAddr); err != nil {
			_ = mem.Close()
			return nil, fmt.Errorf("redis address %q: %w", redisAddr, err)
		}
	} else {
		ropts = &redis.Options{Addr: redisAddr}
	}
	// Without this go-redis ignores context deadlines on the wire, and a
	// slow Redis would hold requests up instead of becoming a miss.
	ropts.ContextTimeoutEnabled = true
	client := redis.NewClient(ropts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		_ = mem.Close()
		return nil, fmt.Errorf("redis at %s: %w", ropts.Addr, err)
	}
	rs, err := redisstore.New(client, redisstore.Options{Prefix: redisPrefix})
	if err != nil {
		_ = client.Close()
		_ = mem.Close()
		return nil, err
	}
	bus, err := redisstore.NewTrackingBus(client, redisPrefix, redisstore.BusOptions{})
	if err != nil {
		_ = client.Close()
		_ = mem.Close()
		return nil, err
	}
	t := tier.NewWith(tier.Options{
		Bus:       bus,
		OwnWrites: time.Second,                  // this instance's own writes keep their memory copies
		MaxTTL:    []time.Duration{time.Minute}, // however coherent, a memory copy lives a minute at most
	}, mem, rs)
	// Connecting clears the memory level once; wait for it so it cannot
	// drop responses stored by the first requests.
	if err := bus.Ready(pctx); err != nil {
		_ = t.Close()
		_ = bus.Close()
		_ = client.Close()
		return nil, fmt.Errorf("redis invalidation bus: %w", err)
	}
	return &storage{
		backend:  t,
		describe: fmt.Sprintf("memory (%s) over Redis at %s", formatSize(memBytes), ropts.Addr),
		maxValue: maxValue,
		keys: func(ctx context.Context, prefix string) ([]string, error) {
			var keys []string
			err := rs.Keys(ctx, redisstore.EscapeGlob(prefix)+"*", func(k string) error { keys = append(keys, k); return nil })
			return keys, err
		},
		close: func() error {
			return errors.Join(t.Close(), bus.Close(), client.Close())
		},
	}, nil
}

// parseSize reads a byte count: a plain number, or one with a unit
// (KiB, MiB, GiB, or KB, MB, GB in powers of ten; B alone is bytes).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
		{"b", 1},
	}
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, such as 256MiB", s)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
