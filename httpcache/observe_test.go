package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/tier"
)

func TestMetricsAndSpan(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	h := newHarness(t, Options{MeterProvider: mp, TracerProvider: tp})
	h.origin.set(200, "Cache-Control: max-age=60")
	h.get("/r")
	h.get("/r")
	h.get("/r")
	h.do(http.MethodPost, "/other")

	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	req := httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(ctx)
	h.h.ServeHTTP(httptest.NewRecorder(), req)
	span.End()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != RequestsName {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value("result")
				got[v.AsString()] += dp.Value
			}
		}
	}
	want := map[string]int64{"miss": 1, "hit": 3, "bypass": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s = %d, want %d (all: %v)", RequestsName, k, got[k], v, got)
		}
	}
	ended := spans.Ended()
	var found bool
	for _, s := range ended {
		if s.Name() != "request" {
			continue
		}
		for _, a := range s.Attributes() {
			if a.Key == attribute.Key(CacheStatusAttr) && len(a.Value.AsStringSlice()) == 1 &&
				a.Value.AsStringSlice()[0] == "hitbox; hit; ttl=60" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the request span has no %s attribute with the Cache-Status member", CacheStatusAttr)
	}
}

func TestDetailNamesTheLevelThatAnswered(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	l1 := mapstore.New(mapstore.Options{Now: clock.Now, Label: "memory"})
	l2 := mapstore.New(mapstore.Options{Now: clock.Now, Label: "redis"})
	tr := tier.New(l1, l2)
	t.Cleanup(func() { _ = tr.Close() })
	h := newHarnessOver(t, Options{}, clock, tr)
	h.origin.set(200, "Cache-Control: max-age=60")
	h.get("/r")
	if got := cacheStatusOf(h.get("/r")); got != `hitbox; hit; ttl=60; detail="tier.memory"` {
		t.Errorf("RFC 9211 §2.8: Cache-Status %q, want the L1 named", got)
	}
	if err := l1.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cacheStatusOf(h.get("/r")); got != `hitbox; hit; ttl=60; detail="tier.redis"` {
		t.Errorf("RFC 9211 §2.8: Cache-Status %q, want the L2 named", got)
	}
}
