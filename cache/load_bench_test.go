package cache_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
)

// BenchmarkTypedHit compares a typed hit four ways: Get through the front,
// Get decoding from memstore (no front), and GetOrLoad over each, which
// must cost what Get does.
func BenchmarkTypedHit(b *testing.B) {
	ctx := context.Background()
	load := func(context.Context) (benchUser, error) { return sampleUser, nil }
	for _, front := range []bool{true, false} {
		opts := cache.Options{Format: codec.CBOR(), TTL: time.Hour}
		name := "memstore"
		if front {
			opts.Front = cache.Front[benchUser]{MaxEntries: 1000}
			name = "front"
		}
		users := cache.New[benchUser](newBenchStore(b), opts)
		if err := users.Set(ctx, "u", sampleUser); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/Get", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := users.Get(ctx, "u"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/GetOrLoad", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := users.GetOrLoad(ctx, "u", load); err != nil {
					b.Fatal(err)
				}
			}
		})
		users.Close()
	}
}

// BenchmarkColdStampede times 1000 concurrent callers of one cold key
// whose load takes 10 ms, against the same load called once ("one-load"):
// the stampede should take about one load, reported as loads/op (1 is
// ideal) and x-load (its time over one load's, measured alike: goroutines
// started, all finished).
func BenchmarkColdStampede(b *testing.B) {
	const loadTime = 10 * time.Millisecond
	load := func(context.Context) (benchUser, error) {
		time.Sleep(loadTime) // the source's work, not pacing
		return sampleUser, nil
	}
	var one time.Duration
	b.Run("one-load", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			var wg sync.WaitGroup
			wg.Go(func() { _, _ = load(context.Background()) })
			wg.Wait()
			total += time.Since(start)
		}
		one = total / time.Duration(b.N)
	})
	b.Run("callers=1000", func(b *testing.B) {
		const callers = 1000
		c := cache.New[benchUser](newBenchStore(b), cache.Options{Format: codec.CBOR()})
		defer c.Close()
		var loads atomic.Int64
		counted := func(ctx context.Context) (benchUser, error) {
			loads.Add(1)
			return load(ctx)
		}
		var total time.Duration
		i := 0
		for b.Loop() {
			key := "cold" + strconv.Itoa(i)
			i++
			var wg sync.WaitGroup
			start := time.Now()
			for range callers {
				wg.Go(func() {
					if _, err := c.GetOrLoad(context.Background(), key, counted); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			total += time.Since(start)
		}
		b.ReportMetric(float64(loads.Load())/float64(b.N), "loads/op")
		if one > 0 {
			b.ReportMetric(float64(total)/float64(b.N)/float64(one), "x-load")
		}
	})
}

// BenchmarkFrontMemory reports the heap one front entry takes beyond its
// value (an int here), in B/entry, over 100,000 entries.
func BenchmarkFrontMemory(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	var per float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := cache.New[int](discard{}, cache.Options{Front: cache.Front[int]{MaxEntries: 2 * n}})
		for i, k := range keys {
			_ = c.Set(ctx, k, i)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
		c.Close()
	}
	b.ReportMetric(per, "B/entry")
}

// discard is a backend that keeps nothing, so only the front holds memory.
type discard struct{}

func (discard) Label() string { return "discard" }
func (discard) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, hitbox.ErrMiss
}
func (discard) Set(context.Context, string, hitbox.Entry) error { return nil }
func (discard) Delete(context.Context, string) error            { return nil }
