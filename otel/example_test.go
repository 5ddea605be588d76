package otel_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/layer"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/tier"
)

// Metrics counts every operation by result; here a manual reader shows
// the counts.
func ExampleMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		panic(err)
	}
	cache := hitbox.Chain(hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))).Then(store)
	defer hitbox.Close(cache)

	ctx := context.Background()
	_ = cache.Set(ctx, "greeting", hitbox.Entry{Value: []byte("hello"), Expire: time.Now().Add(time.Minute)})
	_, _ = cache.Get(ctx, "greeting")
	_, _ = cache.Get(ctx, "greeting")
	_, _ = cache.Get(ctx, "absent")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, p := range sum.DataPoints {
				line := m.Name
				for _, kv := range p.Attributes.ToSlice() {
					line += " " + kv.Value.AsString() // in key order: backend, io.direction, operation, result
				}
				lines = append(lines, fmt.Sprintf("%s = %d", line, p.Value))
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// hitbox.io memory read get = 10
	// hitbox.io memory write set = 5
	// hitbox.operations memory get hit = 2
	// hitbox.operations memory get miss = 1
	// hitbox.operations memory set ok = 1
}

// Trace starts a span per operation; a miss is an answer, so its span has
// no error status.
func ExampleTrace() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))

	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		panic(err)
	}
	cache := hitbox.Chain(hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))).Then(store)
	defer hitbox.Close(cache)

	ctx := context.Background()
	_ = cache.Set(ctx, "greeting", hitbox.Entry{Value: []byte("hello")})
	_, _ = cache.Get(ctx, "greeting")
	_, _ = cache.Get(ctx, "absent")

	for _, s := range sr.Ended() {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		fmt.Println(s.Name(), attrs["hitbox.backend"], attrs["hitbox.result"], attrs["hitbox.value.size"], s.Status().Code)
	}
	// Output:
	// hitbox.set memory ok 5 Unset
	// hitbox.get memory hit 5 Unset
	// hitbox.get memory miss  Unset
}

// The layers in a pipeline, on the global providers (no-op until the
// application installs an SDK). The package doc shows this example.
func Example() {
	ctx := context.Background()
	store, err := memstore.New(memstore.Options{})
	if err != nil {
		panic(err)
	}
	pipeline := hitbox.Chain(
		hitboxotel.Trace(),   // one span per operation of the whole pipeline
		hitboxotel.Metrics(), // counts, durations and bytes, by result
		layer.Encode(),
	).Then(store)
	defer hitbox.Close(pipeline)

	_ = pipeline.Set(ctx, "greeting", hitbox.Entry{Value: []byte("hello")})
	e, err := pipeline.Get(ctx, "greeting")
	fmt.Println(string(e.Value), err)
	// Output: hello <nil>
}

// Layers around a tier and around each of its levels, each level told
// which it is. The package doc shows this example; memory and redis are
// both in-process stores here.
func Example_tier() {
	ctx := context.Background()
	memory, _ := memstore.New(memstore.Options{Label: "memory"})
	redis, _ := memstore.New(memstore.Options{Label: "redis"})

	l1 := hitbox.Chain(
		hitboxotel.Trace(hitboxotel.WithLevel("l1")),
		hitboxotel.Metrics(hitboxotel.WithLevel("l1")),
	).Then(memory)
	l2 := hitbox.Chain(
		hitboxotel.Trace(hitboxotel.WithLevel("l2"), hitboxotel.WithSpanKind(trace.SpanKindClient)),
		hitboxotel.Metrics(hitboxotel.WithLevel("l2")),
	).Then(redis)
	pipeline := hitbox.Chain(hitboxotel.Trace(), hitboxotel.Metrics()).Then(tier.New(l1, l2))
	defer hitbox.Close(pipeline)

	_ = redis.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
	tctx, answer := hitbox.TrackAnswer(ctx)
	e, err := pipeline.Get(tctx, "k")
	fmt.Println(string(e.Value), err, answer.Path())
	// Output: v <nil> tier.redis
}
