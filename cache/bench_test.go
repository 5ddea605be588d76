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
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// benchUser is a value of the shape services cache: a dozen fields.
type benchUser struct {
	ID        int64
	Name      string
	Email     string
	Active    bool
	Score     float64
	Roles     []string
	Country   string
	Language  string
	CreatedAt int64
	UpdatedAt int64
}

var sampleUser = benchUser{
	ID: 42, Name: "Ada Lovelace", Email: "ada@example.com", Active: true, Score: 99.5,
	Roles: []string{"admin", "editor"}, Country: "GB", Language: "en",
	CreatedAt: 1700000000, UpdatedAt: 1700000500,
}

func newBenchStore(b *testing.B) *memstore.Store {
	b.Helper()
	s, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkCacheGetCBOR compares a typed Get over memstore with what it is
// made of: the store's Get and CBOR decoding. Its allocations should be
// those two's and no more.
func BenchmarkCacheGetCBOR(b *testing.B) {
	ctx := context.Background()
	store := newBenchStore(b)
	users := cache.New[benchUser](store, cache.Options{Format: codec.CBOR()})
	if err := users.Set(ctx, "u", sampleUser); err != nil {
		b.Fatal(err)
	}
	b.Run("Cache.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := users.Get(ctx, "u"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store.Get+Unmarshal", func(b *testing.B) {
		f := codec.CBOR()
		b.ReportAllocs()
		for b.Loop() {
			e, err := store.Get(ctx, "u")
			if err != nil {
				b.Fatal(err)
			}
			var u benchUser
			if err := f.Unmarshal(e.Value, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCacheGetBytes measures the raw path: Cache[[]byte] against the
// store it reads.
func BenchmarkCacheGetBytes(b *testing.B) {
	ctx := context.Background()
	store := newBenchStore(b)
	raw := cache.New[[]byte](store, cache.Options{})
	if err := raw.Set(ctx, "b", make([]byte, 1024)); err != nil {
		b.Fatal(err)
	}
	b.Run("Cache.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raw.Get(ctx, "b"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := store.Get(ctx, "b"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFrontTaggedHit compares a front hit of an entry written with
// three tags, which checks their generations, with one of an untagged
// entry, which checks no generation.
func BenchmarkFrontTaggedHit(b *testing.B) {
	ctx := context.Background()
	users := cache.New[benchUser](mapstore.New(mapstore.Options{}), cache.Options{
		Format: codec.CBOR(), TTL: time.Hour,
		Front: cache.Front[benchUser]{MaxEntries: 1000},
	})
	defer users.Close()
	if err := users.Set(ctx, "untagged", sampleUser); err != nil {
		b.Fatal(err)
	}
	if err := users.Set(ctx, "tagged", sampleUser, cache.WithTags("user:42", "team:7", "org:1")); err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{"untagged", "tagged"} {
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := users.Get(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

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
