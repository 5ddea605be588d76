package cache_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestXFetchProbability checks the early refresh rule against its
// expected probability, exp(-gap/(delta*beta)), with a fixed seed: the
// observed rate must lie within four standard deviations.
func TestXFetchProbability(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	for _, ratio := range []float64{0.1, 0.5, 1, 2, 4} { // gap / (delta*beta)
		hits := 0
		for range n {
			if cache.XFetch(ratio, 1, r.Float64) {
				hits++
			}
		}
		p := math.Exp(-ratio)
		sigma := math.Sqrt(p * (1 - p) / n)
		if got := float64(hits) / n; math.Abs(got-p) > 4*sigma {
			t.Errorf("gap = %v x delta*beta: refreshed %.4f of the time, want %.4f ± %.4f", ratio, got, p, 4*sigma)
		}
	}
	if !cache.XFetch(0, 1, r.Float64) || cache.XFetch(41, 1, func() float64 { panic("drew a number far from expiry") }) {
		t.Error("at expiry XFetch must refresh, and far from it never draw")
	}
}

// TestGetOrLoadEarlyRefresh checks that GetOrLoad applies the rule with
// delta measured from its own loads: a fresh hit near expiry starts a
// background refresh when the draw says so, and not otherwise.
func TestGetOrLoadEarlyRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	sets := make(chan string, 4)
	store := notifying{mapstore.New(mapstore.Options{Now: clock.Now}), sets}
	c := cache.New[int](store, cache.Options{TTL: 10 * time.Second, EarlyRefresh: 1, Now: clock.Now})
	defer c.Close()
	var draw float64
	cache.SetRand(c, func() float64 { return draw })
	loads := 0
	load := func(context.Context) (int, error) {
		loads++
		clock.Advance(time.Second) // each load takes 1 s: delta
		return loads, nil
	}
	if v, _ := c.GetOrLoad(ctx, "k", load); v != 1 {
		t.Fatalf("first load = %d", v)
	}
	<-sets
	clock.Advance(9 * time.Second) // 1 s before the value goes stale (it was stored after the 1 s load): gap = delta
	// u = 1-draw: refresh when -ln(u) >= 1, that is u <= 1/e.
	draw = 0.5 // u = 0.5: -ln 0.5 = 0.69 < 1
	if v, _ := c.GetOrLoad(ctx, "k", load); v != 1 || loads != 1 {
		t.Fatalf("a draw that says wait: %d after %d loads", v, loads)
	}
	draw = 0.7 // u = 0.3: -ln 0.3 = 1.2 >= 1
	if v, _ := c.GetOrLoad(ctx, "k", load); v != 1 {
		t.Fatalf("an early refresh must serve the fresh value at once, got %d", v)
	}
	<-sets // the background refresh stored its value
	c.Close()
	if v, _ := c.Get(ctx, "k"); v != 2 || loads != 2 {
		t.Fatalf("after the early refresh the cache holds %d after %d loads, want 2 after 2", v, loads)
	}
}
