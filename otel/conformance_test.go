package otel_test

import (
	"testing"

	"go.uber.org/goleak"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/hitbox-go/hitbox/hitboxtest"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestConformance runs the layer contract on both layers, over the SDK and
// over the no-op providers, whose fast paths skip the measuring.
func TestConformance(t *testing.T) {
	t.Parallel()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	cases := []struct {
		name string
		opts []hitboxotel.Option
	}{
		{"sdk", []hitboxotel.Option{hitboxotel.WithMeterProvider(mp), hitboxotel.WithTracerProvider(tp)}},
		{"noop", []hitboxotel.Option{
			hitboxotel.WithMeterProvider(metricnoop.NewMeterProvider()),
			hitboxotel.WithTracerProvider(tracenoop.NewTracerProvider()),
		}},
	}
	for _, tc := range cases {
		t.Run("metrics/"+tc.name, func(t *testing.T) {
			t.Parallel()
			hitboxtest.TestLayer(t, hitboxotel.Metrics(tc.opts...), hitboxtest.Options{})
		})
		t.Run("trace/"+tc.name, func(t *testing.T) {
			t.Parallel()
			hitboxtest.TestLayer(t, hitboxotel.Trace(tc.opts...), hitboxtest.Options{})
		})
	}
}
