package otel_test

import (
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/hitbox-go/hitbox"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// reporting is a backend that keeps two figures and reports them, in its
// own order or reversed.
type reporting struct {
	hitbox.Backend
	entries, dropped atomic.Int64
	reversed         bool
	calls            atomic.Int64
}

func (r *reporting) Unwrap() hitbox.Backend { return r.Backend }

func (r *reporting) ReportStats(report func(hitbox.Stat)) {
	r.calls.Add(1)
	if r.reversed {
		report(hitbox.Stat{Name: "offload.dropped", Unit: "{task}", Cumulative: true, Value: r.dropped.Load()})
		report(hitbox.Stat{Name: "entries", Unit: "{entry}", Value: r.entries.Load()})
		return
	}
	report(hitbox.Stat{Name: "entries", Unit: "{entry}", Value: r.entries.Load()})
	report(hitbox.Stat{Name: "offload.dropped", Unit: "{task}", Cumulative: true, Value: r.dropped.Load()})
}

var _ hitboxotel.Reporter = (*reporting)(nil)

func wantStats(label string, entries, dropped int64) []metricdata.Metrics {
	attrs := attribute.NewSet(hitboxotel.BackendKey.String(label))
	return []metricdata.Metrics{
		{
			Name:        "hitbox.entries",
			Description: "Reported by the backend.",
			Unit:        "{entry}",
			Data:        metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, Value: entries}}},
		},
		{
			Name:        "hitbox.offload.dropped",
			Description: "Reported by the backend.",
			Unit:        "{task}",
			Data: metricdata.Sum[int64]{
				Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
				DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, Value: dropped}},
			},
		},
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		reversed bool
		wrap     func(r *reporting) hitbox.Backend // what Metrics wraps
	}{
		{"A Reporter right under the layer has its figures published.", false,
			func(r *reporting) hitbox.Backend { return r }},
		{"A Reporter further down the Unwrap chain is found.", false,
			func(r *reporting) hitbox.Backend { return hitboxotel.Trace()(r) }},
		{"Figures reported in another order still reach their instruments.", true,
			func(r *reporting) hitbox.Backend { return r }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reader, mp := newMeterProvider()
			rep := &reporting{Backend: newFixture(t).store}
			b := hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))(tc.wrap(rep))
			rep.reversed = tc.reversed
			rep.entries.Store(42)
			rep.dropped.Store(3)

			got := collect(t, reader)
			for _, want := range wantStats("map", 42, 3) {
				metricdatatest.AssertEqual(t, want, got[want.Name], metricdatatest.IgnoreTimestamp())
			}

			must(t, b.(hitbox.Closer).Close())
			must(t, b.(hitbox.Closer).Close())
			calls := rep.calls.Load()
			got = collect(t, reader)
			for _, want := range wantStats("map", 0, 0) {
				if m, ok := got[want.Name]; ok {
					t.Errorf("%s still published after Close: %+v", want.Name, m.Data)
				}
			}
			if rep.calls.Load() != calls {
				t.Error("ReportStats called after Close")
			}
		})
	}
}

// TestStatsOnce checks that two Metrics layers over one Reporter publish
// its figures once, through the layer nearest to it.
func TestStatsOnce(t *testing.T) {
	t.Parallel()
	reader, mp := newMeterProvider()
	rep := &reporting{Backend: newFixture(t).store}
	rep.entries.Store(7)
	hitbox.Chain(
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp), hitboxotel.WithLabel("outer")),
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp), hitboxotel.WithLabel("inner")),
	).Then(rep)
	got := collect(t, reader)
	for _, want := range wantStats("inner", 7, 0) {
		metricdatatest.AssertEqual(t, want, got[want.Name], metricdatatest.IgnoreTimestamp())
	}
}

// leveled reports one figure per level, as a tier does.
type leveled struct{ hitbox.Backend }

func (leveled) ReportStats(report func(hitbox.Stat)) {
	report(hitbox.Stat{Name: "tier.breaker.open", Level: "l1", Unit: "{breaker}", Value: 0})
	report(hitbox.Stat{Name: "tier.breaker.open", Level: "l2", Unit: "{breaker}", Value: 1})
}

// TestStatsLevels checks that a figure reported per level is one
// instrument whose observations carry each level, in place of the layer's.
func TestStatsLevels(t *testing.T) {
	t.Parallel()
	reader, mp := newMeterProvider()
	hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp), hitboxotel.WithLevel("outer"))(leveled{newFixture(t).store})
	at := func(level string) attribute.Set {
		return attribute.NewSet(hitboxotel.BackendKey.String("map"), hitboxotel.LevelKey.String(level))
	}
	want := metricdata.Metrics{
		Name:        "hitbox.tier.breaker.open",
		Description: "Reported by the backend.",
		Unit:        "{breaker}",
		Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{
			{Attributes: at("l1"), Value: 0},
			{Attributes: at("l2"), Value: 1},
		}},
	}
	metricdatatest.AssertEqual(t, want, collect(t, reader)[want.Name], metricdatatest.IgnoreTimestamp())
}
