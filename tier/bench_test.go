package tier

import (
	"context"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/benchcpu"
	"github.com/hitbox-go/hitbox/internal/benchdata"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// The benchmarks set a tier beside the plain stores it is made of, both
// levels memstore (an in-process L2 is the strictest case: a network L2
// would hide the tier's cost). Sub-benchmarks are named size=.../impl=...,
// so benchstat -col /impl sets them side by side.

func benchStore(b *testing.B, label string) *memstore.Store {
	b.Helper()
	s, err := memstore.New(memstore.Options{Label: label, MaxBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func benchFill(b *testing.B, s hitbox.Backend, size int) hitbox.Entry {
	b.Helper()
	e := hitbox.Entry{Value: make([]byte, size), Expire: time.Now().Add(time.Hour)}
	for _, k := range benchdata.Keys() {
		if err := s.Set(context.Background(), k, e); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// BenchmarkGetL1Hit: a read that L1 answers, through a two-level tier and
// from the L1 store alone.
func BenchmarkGetL1Hit(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		b.Run("size="+sz.Name, func(b *testing.B) {
			l1, l2 := benchStore(b, "memory"), benchStore(b, "l2")
			benchFill(b, l1, sz.Bytes)
			tr := New(l1, l2)
			b.Cleanup(func() { _ = tr.Close() })
			for _, impl := range []struct {
				name string
				b    hitbox.Backend
			}{{"l1", l1}, {"tier", tr}} {
				b.Run("impl="+impl.name, func(b *testing.B) {
					b.ReportAllocs()
					cpu := benchcpu.Start()
					i := 0
					for b.Loop() {
						if _, err := impl.b.Get(ctx, benchdata.Key(i)); err != nil {
							b.Fatal(err)
						}
						i++
					}
					cpu.Report(b, i)
				})
				b.Run("impl="+impl.name+"/parallel", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						i := 0
						for pb.Next() {
							if _, err := impl.b.Get(ctx, benchdata.Key(i)); err != nil {
								b.Error(err)
								return
							}
							i++
						}
					})
				})
			}
		})
	}
}

// BenchmarkGetL2Hit: a read that misses L1 and hits L2, with a synchronous
// refill, against the same work done by hand: L2 Get plus one L1 Set. Both
// remove the key from L1 first, so every read misses it.
func BenchmarkGetL2Hit(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchdata.Sizes {
		b.Run("size="+sz.Name, func(b *testing.B) {
			l1, l2 := benchStore(b, "memory"), benchStore(b, "l2")
			benchFill(b, l2, sz.Bytes)
			tr := New(l1, l2)
			b.Cleanup(func() { _ = tr.Close() })
			b.Run("impl=l2+set", func(b *testing.B) {
				b.ReportAllocs()
				cpu := benchcpu.Start()
				i := 0
				defer func() { cpu.Report(b, i) }()
				for b.Loop() {
					k := benchdata.Key(i)
					_ = l1.Delete(ctx, k)
					e, err := l2.Get(ctx, k)
					if err != nil {
						b.Fatal(err)
					}
					if err := l1.Set(ctx, k, e); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("impl=tier", func(b *testing.B) {
				b.ReportAllocs()
				cpu := benchcpu.Start()
				i := 0
				defer func() { cpu.Report(b, i) }()
				for b.Loop() {
					k := benchdata.Key(i)
					_ = l1.Delete(ctx, k)
					if _, err := tr.Get(ctx, k); err != nil {
						b.Fatal(err)
					}
					i++
				}
				if st := tr.Stats(); st.Levels[0].Hits != 0 {
					b.Fatalf("L1 answered %d reads", st.Levels[0].Hits)
				}
			})
		})
	}
}

// BenchmarkGetTraced: an L1 hit with a Source in the context, as the otel
// layers read it.
func BenchmarkGetTraced(b *testing.B) {
	ctx := context.Background()
	l1, l2 := benchStore(b, "memory"), benchStore(b, "l2")
	benchFill(b, l1, 64)
	tr := New(l1, l2)
	b.Cleanup(func() { _ = tr.Close() })
	src := new(hitbox.Answer)
	tctx := hitbox.ContextWithAnswer(ctx, src)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		src.Reset()
		if _, err := tr.Get(tctx, benchdata.Key(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSet: a write-through Set of both levels against the two Sets by
// hand.
func BenchmarkSet(b *testing.B) {
	ctx := context.Background()
	l1, l2 := benchStore(b, "memory"), benchStore(b, "l2")
	tr := New(l1, l2)
	b.Cleanup(func() { _ = tr.Close() })
	e := hitbox.Entry{Value: make([]byte, 1<<10), Expire: time.Now().Add(time.Hour)}
	b.Run("impl=l2+l1", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := benchdata.Key(i)
			_ = l2.Set(ctx, k, e)
			_ = l1.Set(ctx, k, e)
			i++
		}
	})
	b.Run("impl=tier", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := tr.Set(ctx, benchdata.Key(i), e); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// fixed answers every Get with the same entry and allocates nothing, so
// BenchmarkOverhead measures the tier's own cost on an L1 hit without a
// store's noise.
type fixed struct{ e hitbox.Entry }

func (f *fixed) Get(context.Context, string) (hitbox.Entry, error) { return f.e, nil }
func (f *fixed) Set(context.Context, string, hitbox.Entry) error   { return nil }
func (f *fixed) Delete(context.Context, string) error              { return nil }
func (f *fixed) Label() string                                     { return "fixed" }

// missing holds nothing and allocates nothing.
type missing struct{}

func (missing) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, hitbox.ErrMiss
}
func (missing) Set(context.Context, string, hitbox.Entry) error { return nil }
func (missing) Delete(context.Context, string) error            { return nil }
func (missing) Label() string                                   { return "missing" }

// BenchmarkOverhead measures what the tier itself adds, over backends that
// cost next to nothing: an L1 hit against the L1 alone, and an L2 hit with
// its refill against an L2 Get plus an L1 Set.
func BenchmarkOverhead(b *testing.B) {
	ctx := context.Background()
	l2 := &fixed{e: hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)}}
	hit := New(l2, &fixed{})
	miss := New(missing{}, l2)
	b.Cleanup(func() { _ = hit.Close(); _ = miss.Close() })
	cases := []struct {
		name string
		get  func() error
	}{
		{"l1hit/impl=l1", func() error { _, err := l2.Get(ctx, "k"); return err }},
		{"l1hit/impl=tier", func() error { _, err := hit.Get(ctx, "k"); return err }},
		{"l2hit/impl=l2+set", func() error {
			e, err := l2.Get(ctx, "k")
			if err != nil {
				return err
			}
			return missing{}.Set(ctx, "k", e)
		}},
		{"l2hit/impl=tier", func() error { _, err := miss.Get(ctx, "k"); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := benchcpu.Start()
			i := 0
			for b.Loop() {
				if err := c.get(); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.Report(b, i)
		})
	}
}
