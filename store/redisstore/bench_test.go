package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/benchdata"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// The benchmarks compare the store with go-redis used directly, on the same
// server, keys and values, in one run: the store's cost is what it adds to
// a round trip.

const benchKeys = 1000

// benchStore returns a store on the shared server holding benchKeys
// entries of size bytes, its client, and the stored key of each entry.
func benchStore(b *testing.B, size int) (*redisstore.Store, []string, []string) {
	b.Helper()
	ctx := context.Background()
	rdb := redistest.Shared(b).Client(b)
	prefix := redistest.Prefix(b)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, benchKeys)
	stored := make([]string, benchKeys)
	items := make([]hitbox.Item, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprint("key", i)
		stored[i] = prefix + keys[i]
		items[i] = hitbox.Item{Key: keys[i], Entry: hitbox.Entry{Value: make([]byte, size), Expire: time.Now().Add(time.Hour)}}
	}
	if err := s.SetMany(ctx, items); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Clear(ctx) })
	return s, keys, stored
}

// BenchmarkGet reads through the store and with go-redis's Get on the same
// keys, one caller and many.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		b.Run(sz.Name, func(b *testing.B) {
			s, keys, stored := benchStore(b, sz.Bytes)
			rdb := redistest.Shared(b).Client(b)
			b.Run("store", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("go-redis", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if err := rdb.Get(ctx, stored[i%benchKeys]).Err(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("store-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("go-redis-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if err := rdb.Get(ctx, stored[i%benchKeys]).Err(); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkSet writes through the store (with an Expire, so with PX) and
// with go-redis's Set with a lifetime, on the same keys.
func BenchmarkSet(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		b.Run(sz.Name, func(b *testing.B) {
			s, keys, stored := benchStore(b, sz.Bytes)
			rdb := redistest.Shared(b).Client(b)
			v := make([]byte, sz.Bytes)
			e := hitbox.Entry{Value: v, Expire: time.Now().Add(time.Hour)}
			b.Run("store", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if err := s.Set(ctx, keys[i%benchKeys], e); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("go-redis", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if err := rdb.Set(ctx, stored[i%benchKeys], v, time.Hour).Err(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("store-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if err := s.Set(ctx, keys[i%benchKeys], e); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("go-redis-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if err := rdb.Set(ctx, stored[i%benchKeys], v, time.Hour).Err(); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkGetMany reads 100 keys of 1 KiB in one GetMany (one MGET), with
// go-redis's MGet, and as 100 Gets one after another.
func BenchmarkGetMany(b *testing.B) {
	ctx := context.Background()
	s, keys, stored := benchStore(b, 1<<10)
	rdb := redistest.Shared(b).Client(b)
	batch := keys[:100]
	b.Run("GetMany-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-redis-MGET-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := rdb.MGet(ctx, stored[:100]...).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get-x100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range batch {
				if _, err := s.Get(ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkTaggedGet reads 1 KiB entries with three tags beside the same
// entries untagged, on the shared server over loopback: benchstat -col
// /entry gives what tags cost a read (the version check). read=script is
// what a single server does (one round trip, through the read script,
// for both); read=get is a plain GET and, for a tagged entry, an MGET of
// its versions: what a cluster and a ring do.
func BenchmarkTaggedGet(b *testing.B) {
	ctx := context.Background()
	tags := []string{"user:42", "product:7", "page:home"}
	for _, read := range []string{"script", "get"} {
		for _, entry := range []string{"untagged", "tagged"} {
			b.Run("read="+read+"/entry="+entry, func(b *testing.B) {
				rdb := redistest.Shared(b).Client(b)
				s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(b)})
				if err != nil {
					b.Fatal(err)
				}
				redisstore.SetReadScript(s, read == "script")
				b.Cleanup(func() { _ = s.Clear(ctx) })
				keys := make([]string, benchKeys)
				e := hitbox.Entry{Value: make([]byte, 1<<10), Expire: time.Now().Add(time.Hour)}
				for i := range keys {
					keys[i] = "key" + strconv.Itoa(i)
					if entry == "tagged" {
						err = s.SetTagged(ctx, keys[i], e, tags)
					} else {
						err = s.Set(ctx, keys[i], e)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInvalidateTags purges a tag that 1 entry carries and one that
// 10,000 entries carry, on the shared server over loopback. Each purge
// removes the tag's version key, so both cost one round trip; between
// purges (off the clock) one more entry is written with the tag, so each
// purge finds a version to remove.
func BenchmarkInvalidateTags(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 10000} {
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			rdb := redistest.Shared(b).Client(b)
			s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Clear(ctx) })
			e := hitbox.Entry{Value: make([]byte, 64), Expire: time.Now().Add(time.Hour)}
			for i := range n {
				if err := s.SetTagged(ctx, "key"+strconv.Itoa(i), e, []string{"t"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.InvalidateTags(ctx, "t"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.SetTagged(ctx, "key0", e, []string{"t"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if _, err := s.Get(ctx, "key"+strconv.Itoa(n-1)); n > 1 && err == nil {
				b.Fatal("an entry written before the purges is still served")
			}
		})
	}
}

// BenchmarkColdGetOrLoad is a typed cache's miss over the store: a read
// that misses, the lease, a loader that answers at once, and the leased
// store, each on a new key; trips/op counts round trips to the server.
func BenchmarkColdGetOrLoad(b *testing.B) {
	ctx := context.Background()
	rdb := redistest.Shared(b).Client(b)
	tc := &tripCounter{}
	rdb.AddHook(tc)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Clear(ctx) })
	c := cache.New[[]byte](s, cache.Options{TTL: time.Minute})
	defer c.Close()
	value := make([]byte, 100)
	load := func(context.Context) ([]byte, error) { return value, nil }
	_, _ = c.GetOrLoad(ctx, "warm", load) // the scripts' first run loads them
	b.ReportAllocs()
	start := tc.n.Load()
	for i := 0; b.Loop(); i++ {
		if _, err := c.GetOrLoad(ctx, "cold"+strconv.Itoa(i), load); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tc.n.Load()-start)/float64(b.N), "trips/op")
}
