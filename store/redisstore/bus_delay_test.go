package redisstore_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestBusDelay measures, for each bus, the invalidation delay: from the
// return of process A's Set to the moment process B's tier has dropped the
// key from its L1 (B's observer, subscribed after the tier, sees the
// message then). It writes 1000 keys one after another on a server of its
// own and logs p50, p99 and the maximum. It is a measurement, not a check,
// and runs only when HITBOX_BUS_DELAY=1:
//
//	HITBOX_BUS_DELAY=1 go test -run TestBusDelay -v ./store/redisstore/
func TestBusDelay(t *testing.T) {
	if os.Getenv("HITBOX_BUS_DELAY") != "1" {
		t.Skip("a measurement; set HITBOX_BUS_DELAY=1 to run it")
	}
	const writes = 1000
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			a, b := newPair(t, kind, rdb, nil)
			seen := make(chan time.Time, 1)
			var want atomic.Pointer[string]
			want.Store(new(string))
			stop := b.bus.Subscribe(func(inv hitbox.Invalidation) {
				if slices.Contains(inv.Keys, *want.Load()) {
					seen <- time.Now()
				}
			})
			defer stop()
			ctx := context.Background()
			if err := redisstore.FlushBus(ctx, b.bus); err != nil {
				t.Fatal(err)
			}
			delays := make([]time.Duration, 0, writes)
			whole := make([]time.Duration, 0, writes)
			early := 0
			for i := range writes {
				key := "k" + strconv.Itoa(i)
				want.Store(&key)
				start := time.Now()
				set(t, a, key, "v")
				done := time.Now()
				var at time.Time
				select {
				case at = <-seen:
				case <-time.After(waitLimit):
					t.Fatalf("no invalidation of %s", key)
				}
				whole = append(whole, at.Sub(start))
				d := at.Sub(done)
				if d < 0 { // B had dropped it before A's Set returned
					early++
					d = 0
				}
				delays = append(delays, d)
			}
			slices.Sort(delays)
			slices.Sort(whole)
			q := func(ds []time.Duration, p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
			t.Logf("%s bus, %d writes on loopback: from Set's return p50 %v, p90 %v, p99 %v, max %v (%d dropped before Set returned); from Set's call p50 %v, p99 %v",
				kind.name, writes, q(delays, 0.50), q(delays, 0.90), q(delays, 0.99), delays[len(delays)-1], early,
				q(whole, 0.50), q(whole, 0.99))
		})
	}
}
