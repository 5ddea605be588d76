package memstore

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/benchcpu"
	"github.com/hitbox-go/hitbox/internal/benchdata"
)

// The benchmarks compare the store with bigcache used directly, with the
// same bigcache configuration and data, so the ratio is the store's own
// cost: its checks, the deadline header and the clock read. Sub-benchmarks
// are named size=.../impl=..., so benchstat -col /impl sets them side by
// side.

// benchPair returns a store and a raw bigcache built from the same
// settings, each holding every bench key with a value of size bytes. Store
// entries carry an Expire, as real ones do, so each Get reads the clock.
// The cap is large enough that no bench key is ever evicted.
func benchPair(b *testing.B, size int) (*Store, *bigcache.BigCache) {
	b.Helper()
	s, raw := newPair(b, 256<<20)
	value := make([]byte, size)
	e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Hour)}
	for _, k := range benchdata.Keys() {
		if err := s.Set(context.Background(), k, e); err != nil {
			b.Fatal(err)
		}
		if err := raw.Set(k, value); err != nil {
			b.Fatal(err)
		}
	}
	return s, raw
}

// fullPair returns a store and a raw bigcache whose queues have already
// grown to their 16 MiB cap, so Set benchmarks measure the steady state of
// a full cache (each Set evicting the oldest entries) rather than the
// queues' one-off growth.
func fullPair(b *testing.B, size int) (*Store, *bigcache.BigCache) {
	b.Helper()
	const limit = 16 << 20
	s, raw := newPair(b, limit)
	value := make([]byte, size)
	e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Hour)}
	for i := 0; i < 2*limit/(size+64); i++ {
		k := benchdata.Key(i)
		if err := s.Set(context.Background(), k, e); err != nil {
			b.Fatal(err)
		}
		if err := raw.Set(k, value); err != nil {
			b.Fatal(err)
		}
	}
	return s, raw
}

// settle starts a sub-benchmark from a quiet heap, so a garbage collection
// left over from building the pair, or from the sub-benchmark before, does
// not land on whichever runs first.
func settle(b *testing.B) {
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
}

// newPair returns an empty store with a cap of maxBytes and a raw bigcache
// configured exactly as the store configures its own.
func newPair(b *testing.B, maxBytes int64) (*Store, *bigcache.BigCache) {
	b.Helper()
	opts := Options{MaxBytes: maxBytes}
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	set, err := opts.resolve()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := bigcache.New(context.Background(), set.bigcacheConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); raw.Close() })
	return s, raw
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		s, raw := benchPair(b, sz.Bytes)
		b.Run("size="+sz.Name+"/impl=memstore", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			cpu := benchcpu.Start()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Get(ctx, benchdata.Key(i)); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b, b.N)
		})
		b.Run("size="+sz.Name+"/impl=bigcache", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			cpu := benchcpu.Start()
			for i := 0; b.Loop(); i++ {
				if _, err := raw.Get(benchdata.Key(i)); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b, b.N)
		})
	}
}

func BenchmarkGetMiss(b *testing.B) {
	ctx := context.Background()
	s, raw := benchPair(b, 64)
	b.Run("impl=memstore", func(b *testing.B) {
		settle(b)
		for b.Loop() {
			if _, err := s.Get(ctx, "absent"); err == nil {
				b.Fatal("hit")
			}
		}
	})
	b.Run("impl=bigcache", func(b *testing.B) {
		settle(b)
		for b.Loop() {
			if _, err := raw.Get("absent"); err == nil {
				b.Fatal("hit")
			}
		}
	})
}

func BenchmarkSet(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		s, raw := fullPair(b, sz.Bytes)
		value := make([]byte, sz.Bytes)
		e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Hour)}
		b.Run("size="+sz.Name+"/impl=memstore", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			cpu := benchcpu.Start()
			for i := 0; b.Loop(); i++ {
				if err := s.Set(ctx, benchdata.Key(i), e); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b, b.N)
		})
		b.Run("size="+sz.Name+"/impl=bigcache", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			cpu := benchcpu.Start()
			for i := 0; b.Loop(); i++ {
				if err := raw.Set(benchdata.Key(i), value); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b, b.N)
		})
	}
}

func BenchmarkGetParallel(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		s, raw := benchPair(b, sz.Bytes)
		b.Run("size="+sz.Name+"/impl=memstore", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if _, err := s.Get(ctx, benchdata.Key(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("size="+sz.Name+"/impl=bigcache", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if _, err := raw.Get(benchdata.Key(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkSetParallel(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		s, raw := fullPair(b, sz.Bytes)
		value := make([]byte, sz.Bytes)
		e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Hour)}
		b.Run("size="+sz.Name+"/impl=memstore", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := s.Set(ctx, benchdata.Key(i), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("size="+sz.Name+"/impl=bigcache", func(b *testing.B) {
			settle(b)
			b.SetBytes(int64(sz.Bytes))
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := raw.Set(benchdata.Key(i), value); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGetTagged reads 1 KiB entries carrying three tags, beside the
// same entries untagged, so benchstat -col /entry gives the cost of tags
// on a read: the tag section's parse and one version lookup per tag.
// read=Get is the plain Get (which honours tags too); read=GetTagged also
// returns the tags. cpu-ns/op is the process's CPU time per read, steadier
// than ns/op on a shared machine.
func BenchmarkGetTagged(b *testing.B) {
	ctx := context.Background()
	const size = 1 << 10
	tags := []string{"user:42", "product:7", "page:home"}
	for _, read := range []string{"Get", "GetTagged"} {
		for _, entry := range []string{"untagged", "tagged"} {
			s, _ := newPair(b, 256<<20)
			e := hitbox.Entry{Value: make([]byte, size), Expire: time.Now().Add(time.Hour)}
			for _, k := range benchdata.Keys() {
				var err error
				if entry == "tagged" {
					err = s.SetTagged(ctx, k, e, tags)
				} else {
					err = s.Set(ctx, k, e)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.Run("read="+read+"/entry="+entry, func(b *testing.B) {
				settle(b)
				b.SetBytes(size)
				cpu := benchcpu.Start()
				defer func() { cpu.Report(b, b.N) }()
				for i := 0; b.Loop(); i++ {
					var err error
					if read == "Get" {
						_, err = s.Get(ctx, benchdata.Key(i))
					} else {
						_, _, err = s.GetTagged(ctx, benchdata.Key(i))
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAdmissionMemory reports the bytes admission and re-insertion
// hold (frequency sketch, doorkeeper, visited bits, per-shard counts and
// empty pending lists) per entry of a full store, for records of each
// bench size.
func BenchmarkAdmissionMemory(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		b.Run("size="+sz.Name, func(b *testing.B) {
			const limit = 64 << 20
			var perEntry float64
			for b.Loop() {
				s, _ := newPair(b, limit)
				e := hitbox.Entry{Value: make([]byte, sz.Bytes)}
				for i := 0; i < 2*limit/(sz.Bytes+64); i++ {
					if err := s.Set(ctx, "key:"+strconv.Itoa(i), e); err != nil {
						b.Fatal(err)
					}
				}
				perEntry = float64(s.adm.bytes()+s.re.bytes()) / float64(s.Len())
			}
			b.ReportMetric(perEntry, "B/entry")
		})
	}
}
