package otel_test

import (
	"context"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
	"github.com/hitbox-go/hitbox/tier"
)

var sizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// benchGet measures Get hits through b, a layer over a static backend.
func benchGet(b *testing.B, be hitbox.Backend) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Get(ctx, "k"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGetParallel(b *testing.B, be hitbox.Backend) {
	b.Helper()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := be.Get(ctx, "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// layers are the pipelines each benchmark puts over the static backend:
// none (the baseline), each layer over no-op providers and over the global
// providers left unset (no test here sets them), and each layer over
// the SDK (a manual reader that is never collected; a tracer that samples
// everything into a processor that drops it, or samples nothing).
func layers(b *testing.B) []struct {
	name  string
	layer hitbox.Layer
} {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	sampled := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	b.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = sampled.Shutdown(context.Background())
		_ = unsampled.Shutdown(context.Background())
	})
	none := func(next hitbox.Backend) hitbox.Backend { return next }
	return []struct {
		name  string
		layer hitbox.Layer
	}{
		{"baseline", none},
		{"metrics-noop", hitboxotel.Metrics(hitboxotel.WithMeterProvider(metricnoop.NewMeterProvider()))},
		{"trace-noop", hitboxotel.Trace(hitboxotel.WithTracerProvider(tracenoop.NewTracerProvider()))},
		{"metrics-global-unset", hitboxotel.Metrics()},
		{"trace-global-unset", hitboxotel.Trace()},
		{"metrics-sdk", hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))},
		{"trace-sdk-sampled", hitboxotel.Trace(hitboxotel.WithTracerProvider(sampled))},
		{"trace-sdk-unsampled", hitboxotel.Trace(hitboxotel.WithTracerProvider(unsampled))},
	}
}

// discard is a span processor that drops ended spans, so a long benchmark
// does not keep them.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

func BenchmarkGet(b *testing.B) {
	for _, l := range layers(b) {
		for _, sz := range sizes {
			be := l.layer(&static{e: hitbox.Entry{Value: make([]byte, sz.n)}})
			b.Run(l.name+"/"+sz.name, func(b *testing.B) { benchGet(b, be) })
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	for _, l := range layers(b) {
		be := l.layer(&static{e: hitbox.Entry{Value: make([]byte, 64)}})
		b.Run(l.name, func(b *testing.B) { benchGetParallel(b, be) })
	}
}

// TestNoAllocs checks that a Get hit allocates nothing in the layers over
// the no-op providers, and nothing in Metrics over the SDK either.
func TestNoAllocs(t *testing.T) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	cases := []struct {
		name  string
		layer hitbox.Layer
	}{
		{"Metrics over the no-op provider allocates nothing.", hitboxotel.Metrics(hitboxotel.WithMeterProvider(metricnoop.NewMeterProvider()))},
		{"Trace over the no-op provider allocates nothing.", hitboxotel.Trace(hitboxotel.WithTracerProvider(tracenoop.NewTracerProvider()))},
		{"Metrics over the global provider left unset allocates nothing.", hitboxotel.Metrics()},
		{"Metrics over the SDK allocates nothing once its series exist.", hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := tc.layer(&static{e: hitbox.Entry{Value: make([]byte, 64), Stale: time.Now().Add(time.Hour)}})
			ctx := context.Background()
			get := func() {
				if _, err := be.Get(ctx, "k"); err != nil {
					t.Fatal(err)
				}
			}
			get() // the SDK makes a series on its first measurement
			if n := testing.AllocsPerRun(100, get); n != 0 {
				t.Errorf("%v allocations per Get", n)
			}
		})
	}
}

// BenchmarkGetTier measures L1 hits of a two-level tier of map stores
// through each layer, and so what naming the level that answered adds to a
// recorded get span: a Source from the layer's pool, a context to carry
// it, and the path.
func BenchmarkGetTier(b *testing.B) {
	for _, l := range layers(b) {
		for _, sz := range sizes {
			t := tier.New(mapstore.New(mapstore.Options{}), mapstore.New(mapstore.Options{}))
			b.Cleanup(func() { _ = t.Close() })
			if err := t.Set(context.Background(), "k", hitbox.Entry{Value: make([]byte, sz.n)}); err != nil {
				b.Fatal(err)
			}
			be := l.layer(t)
			b.Run(l.name+"/"+sz.name, func(b *testing.B) { benchGet(b, be) })
		}
	}
}
