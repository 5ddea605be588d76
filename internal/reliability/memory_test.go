package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/redistest"
)

// TestMemoryPressure runs the load against a server capped at 2 MiB above
// what it uses empty, with four times that in values. Under allkeys-lru
// Redis evicts entries and reads of them turn into loads; under noeviction
// it refuses writes with an OOM error, which the tier counts and the cache
// logs. Either way no GetOrLoad fails or returns a wrong value, and every
// entry left in Redis reads back whole.
func TestMemoryPressure(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "noeviction"} {
		t.Run(policy, func(t *testing.T) {
			ctx := context.Background()
			srv := redistest.Start(t)
			admin := srv.Client(t)
			used, err := infoField(ctx, admin, "memory", "used_memory")
			if err != nil {
				t.Fatal(err)
			}
			limit := used + 2<<20
			if err := admin.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
				t.Fatal(err)
			}

			before := goleak.IgnoreCurrent()
			client := redis.NewClient(clientOptions(srv.Addr))
			in := newInstance(t, "app", client, false, 100*time.Millisecond)
			ins := []*instance{in}
			src := newSource(8 << 10)
			ks := keys(t, 1000) // about 8 MiB of values
			l := startLoad(t, src, ins, ks, 4)
			// The load runs until the server is full and has acted on it
			// a while: evicted entries, or refused writes.
			waitFor(t, time.Minute, "a full server", func() error {
				switch policy {
				case "allkeys-lru":
					if n, err := infoField(ctx, admin, "stats", "evicted_keys"); err != nil || n < 500 {
						return fmt.Errorf("%d keys evicted (%v)", n, err)
					}
				case "noeviction":
					if _, errs, _, _, _ := l2Stats(ins); errs < 20 {
						return fmt.Errorf("%d L2 errors", errs)
					}
				}
				if n := l.reads.Load(); n < 3000 {
					return fmt.Errorf("%d reads", n)
				}
				return nil
			})
			l.Stop()
			opens, errs, skipped, hits, _ := l2Stats(ins)
			evicted, _ := infoField(ctx, admin, "stats", "evicted_keys")
			t.Logf("load: %s", l)
			t.Logf("L2: %d hits, %d errors, breaker opened %d times, %d calls skipped; Redis evicted %d keys; %d warnings logged",
				hits, errs, opens, skipped, evicted, in.logs.n.Load())
			l.checkReads(t)

			if policy == "noeviction" {
				in.logs.mu.Lock()
				logged := strings.Join(in.logs.first, "\n")
				in.logs.mu.Unlock()
				if !strings.Contains(logged, "OOM") {
					t.Errorf("the refused writes were not logged with Redis's OOM error; first warnings:\n%s", logged)
				}
			}

			// Every entry Redis kept reads back whole: straight from L2,
			// a hit decodes to the value of its own key.
			kept := 0
			for _, k := range ks {
				e, err := in.l2.Get(ctx, k)
				if errors.Is(err, hitbox.ErrMiss) {
					continue
				}
				if err != nil {
					t.Fatalf("L2 get %s: %v", k, err)
				}
				var v item
				if err := codec.JSON().Unmarshal(e.Value, &v); err != nil {
					t.Fatalf("L2 holds a damaged %s: %v", k, err)
				}
				if err := src.check(k, v); err != nil {
					t.Fatal(err)
				}
				kept++
			}
			t.Logf("%d of %d keys kept in Redis, all whole", kept, len(ks))
			if err := in.Close(); err != nil {
				t.Error(err)
			}
			verifyNone(t, before)
		})
	}
}

// infoField reads one numeric field of an INFO section.
func infoField(ctx context.Context, rdb *redis.Client, section, field string) (int64, error) {
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO %s has no %s", section, field)
}
