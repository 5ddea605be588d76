package otel_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/hitbox-go/hitbox"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// point is one expected data point: n keys (counter) or n calls
// (histogram) of op with a result and, for errors, a class.
type point struct {
	op, result, errType string
	n                   int64
}

// ioPoint is one expected data point of hitbox.io.
type ioPoint struct {
	op, dir string
	n       int64
}

// bounds are the bucket bounds the layer advises for durations.
var bounds = []float64{
	1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
	1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

func opAttrs(label, op, result, errType string, extra ...attribute.KeyValue) attribute.Set {
	kv := append([]attribute.KeyValue{
		hitboxotel.BackendKey.String(label),
		hitboxotel.OperationKey.String(op),
		hitboxotel.ResultKey.String(result),
	}, extra...)
	if errType != "" {
		kv = append(kv, hitboxotel.ErrorTypeKey.String(errType))
	}
	return attribute.NewSet(kv...)
}

func wantOps(label string, pts []point, extra ...attribute.KeyValue) metricdata.Metrics {
	dps := make([]metricdata.DataPoint[int64], 0, len(pts))
	for _, p := range pts {
		dps = append(dps, metricdata.DataPoint[int64]{Attributes: opAttrs(label, p.op, p.result, p.errType, extra...), Value: p.n})
	}
	return metricdata.Metrics{
		Name:        "hitbox.operations",
		Description: "Cache operations, one per key, by operation, backend and result.",
		Unit:        "{operation}",
		Data:        metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: dps},
	}
}

// wantDurations expects n calls of one step each per point.
func wantDurations(label string, pts []point, extra ...attribute.KeyValue) metricdata.Metrics {
	d := step.Seconds()
	bucket := 0
	for bucket < len(bounds) && d > bounds[bucket] {
		bucket++
	}
	dps := make([]metricdata.HistogramDataPoint[float64], 0, len(pts))
	for _, p := range pts {
		counts := make([]uint64, len(bounds)+1)
		counts[bucket] = uint64(p.n)
		sum := 0.0
		for range p.n {
			sum += d
		}
		dps = append(dps, metricdata.HistogramDataPoint[float64]{
			Attributes:   opAttrs(label, p.op, p.result, p.errType, extra...),
			Count:        uint64(p.n),
			Bounds:       bounds,
			BucketCounts: counts,
			Min:          metricdata.NewExtrema(d),
			Max:          metricdata.NewExtrema(d),
			Sum:          sum,
		})
	}
	return metricdata.Metrics{
		Name:        "hitbox.operation.duration",
		Description: "Duration of cache calls, batches counting once.",
		Unit:        "s",
		Data:        metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: dps},
	}
}

func wantIO(label string, pts []ioPoint, extra ...attribute.KeyValue) metricdata.Metrics {
	dps := make([]metricdata.DataPoint[int64], 0, len(pts))
	for _, p := range pts {
		kv := append([]attribute.KeyValue{
			hitboxotel.BackendKey.String(label),
			hitboxotel.OperationKey.String(p.op),
			hitboxotel.IODirectionKey.String(p.dir),
		}, extra...)
		dps = append(dps, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(kv...), Value: p.n})
	}
	return metricdata.Metrics{
		Name:        "hitbox.io",
		Description: "Bytes of values read from and written to the backend.",
		Unit:        "By",
		Data:        metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: dps},
	}
}

// collect reads every metric of the layers' scope from r, by name.
func collect(t *testing.T, r sdkmetric.Reader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	must(t, r.Collect(context.Background(), &rm))
	out := make(map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/hitbox-go/hitbox/otel" {
			t.Errorf("scope %q, want the package's import path", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// checkMetric asserts that got holds want exactly, or no such metric when
// want has no data points.
func checkMetric[N int64 | float64](t *testing.T, got map[string]metricdata.Metrics, want metricdata.Metrics, empty bool) {
	t.Helper()
	m, ok := got[want.Name]
	if empty {
		if ok {
			t.Errorf("%s: got %+v, want no data", want.Name, m.Data)
		}
		return
	}
	if !ok {
		t.Errorf("%s: missing", want.Name)
		return
	}
	metricdatatest.AssertEqual(t, want, m, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func newMeterProvider() (*sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	r := sdkmetric.NewManualReader()
	return r, sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
}

type metricsCase struct {
	name    string
	do      func(ctx context.Context, b hitbox.Backend, fx fixture) error
	wantErr error // what errors.Is must see in the error returned; nil: none
	ops     []point
	durs    []point // nil: the same as ops, one call each
	io      []ioPoint
}

func get(key string) func(context.Context, hitbox.Backend, fixture) error {
	return func(ctx context.Context, b hitbox.Backend, _ fixture) error {
		_, err := b.Get(ctx, key)
		return err
	}
}

// failingGet makes the store fail Get with err.
func failingGet(err error) func(context.Context, hitbox.Backend, fixture) error {
	return func(ctx context.Context, b hitbox.Backend, fx fixture) error {
		fx.fault.FailGet(err)
		_, e := b.Get(ctx, keyFresh)
		return e
	}
}

// errorClasses lists, for each error class, an error a store may return.
var errorClasses = []struct {
	class string
	err   error
}{
	{"corrupt", hitbox.ErrCorrupt},
	{"too_large", &hitbox.SizeError{Size: 10, Limit: 5}},
	{"unavailable", hitbox.ErrUnavailable},
	{"timeout", context.DeadlineExceeded},
	{"timeout", fmt.Errorf("%w: %w", hitbox.ErrUnavailable, context.DeadlineExceeded)},
	{"canceled", context.Canceled},
	{"closed", hitbox.ErrClosed},
	{"invalid_key", hitbox.ErrInvalidKey},
	{"invalid_tag", hitbox.ErrInvalidTag},
	{"not_supported", hitbox.ErrNotSupported},
	{"other", errors.New("boom")},
}

func metricsCases() []metricsCase {
	cases := []metricsCase{
		{
			name: "A fresh entry counts as a hit, its bytes as read.",
			do:   get(keyFresh),
			ops:  []point{{"get", "hit", "", 1}},
			io:   []ioPoint{{"get", "read", 5}},
		},
		{
			name: "An entry past its Stale deadline counts as stale, its bytes as read.",
			do:   get(keyStale),
			ops:  []point{{"get", "stale", "", 1}},
			io:   []ioPoint{{"get", "read", 4}},
		},
		{
			name:    "An absent key counts as a miss, not an error, and reads nothing.",
			do:      get(keyAbsent),
			wantErr: hitbox.ErrMiss,
			ops:     []point{{"get", "miss", "", 1}},
		},
		{
			name:    "An empty key, refused by the store, counts as invalid_key.",
			do:      get(""),
			wantErr: hitbox.ErrInvalidKey,
			ops:     []point{{"get", "error", "invalid_key", 1}},
		},
		{
			name: "A closed store's refusal counts as closed.",
			do: func(ctx context.Context, b hitbox.Backend, fx fixture) error {
				if err := fx.store.Close(); err != nil {
					return err
				}
				_, err := b.Get(ctx, keyFresh)
				return err
			},
			wantErr: hitbox.ErrClosed,
			ops:     []point{{"get", "error", "closed", 1}},
		},
		{
			name: "A set counts as ok, its bytes as written.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return b.Set(ctx, "k", hitbox.Entry{Value: []byte("abc")})
			},
			ops: []point{{"set", "ok", "", 1}},
			io:  []ioPoint{{"set", "write", 3}},
		},
		{
			name: "A failed set counts its error and writes nothing.",
			do: func(ctx context.Context, b hitbox.Backend, fx fixture) error {
				fx.fault.FailSet(hitbox.ErrUnavailable)
				return b.Set(ctx, "k", hitbox.Entry{Value: []byte("abc")})
			},
			wantErr: hitbox.ErrUnavailable,
			ops:     []point{{"set", "error", "unavailable", 1}},
		},
		{
			name: "A delete counts as ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return b.Delete(ctx, keyFresh)
			},
			ops: []point{{"delete", "ok", "", 1}},
		},
		{
			name: "A batch read counts each key with its own result, the call once as ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				_, err := hitbox.GetMany(ctx, b, []string{keyFresh, keyStale, keyAbsent, keyFresh})
				return err
			},
			ops:  []point{{"getmany", "hit", "", 2}, {"getmany", "stale", "", 1}, {"getmany", "miss", "", 1}},
			durs: []point{{"getmany", "ok", "", 1}},
			io:   []ioPoint{{"getmany", "read", 14}},
		},
		{
			name: "A failed batch read counts every key as failed, the call once.",
			do: func(ctx context.Context, b hitbox.Backend, fx fixture) error {
				fx.fault.FailGet(hitbox.ErrUnavailable)
				_, err := hitbox.GetMany(ctx, b, []string{keyFresh, keyStale, keyAbsent})
				return err
			},
			wantErr: hitbox.ErrUnavailable,
			ops:     []point{{"getmany", "error", "unavailable", 3}},
			durs:    []point{{"getmany", "error", "unavailable", 1}},
		},
		{
			name: "A batch write counts each item, the call once, and the bytes of all.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.SetMany(ctx, b, []hitbox.Item{
					{Key: "a", Entry: hitbox.Entry{Value: []byte("ab")}},
					{Key: "b", Entry: hitbox.Entry{Value: []byte("cde")}},
				})
			},
			ops:  []point{{"setmany", "ok", "", 2}},
			durs: []point{{"setmany", "ok", "", 1}},
			io:   []ioPoint{{"setmany", "write", 5}},
		},
		{
			name: "A batch delete counts each key, the call once.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.DeleteMany(ctx, b, []string{keyFresh, keyStale, keyAbsent})
			},
			ops:  []point{{"deletemany", "ok", "", 3}},
			durs: []point{{"deletemany", "ok", "", 1}},
		},
		{
			name: "A clear counts once as ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.Clear(ctx, b)
			},
			ops: []point{{"clear", "ok", "", 1}},
		},
		{
			name: "A prefix clear counts once as ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.ClearPrefix(ctx, b, "f")
			},
			ops: []point{{"clearprefix", "ok", "", 1}},
		},
		{
			name: "A remove of a present key counts as ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				if removed, err := hitbox.Remove(ctx, b, keyFresh); err != nil || !removed {
					return fmt.Errorf("Remove = %v, %v; want true", removed, err)
				}
				return nil
			},
			ops:  []point{{"remove", "ok", "", 1}},
			durs: []point{{"remove", "ok", "", 1}},
		},
		{
			name: "A remove of an absent key counts as a miss.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				if removed, err := hitbox.Remove(ctx, b, keyAbsent); err != nil || removed {
					return fmt.Errorf("Remove = %v, %v; want false", removed, err)
				}
				return nil
			},
			ops: []point{{"remove", "miss", "", 1}},
		},
	}
	for _, c := range errorClasses {
		cases = append(cases, metricsCase{
			name:    fmt.Sprintf("A get failing with %q counts as an error of class %s.", c.err, c.class),
			do:      failingGet(c.err),
			wantErr: c.err,
			ops:     []point{{"get", "error", c.class, 1}},
		})
	}
	return cases
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range metricsCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reader, mp := newMeterProvider()
			fx := newFixture(t)
			b := hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp), hitboxotel.WithClock(steppingClock()))(fx.fault)

			err := tc.do(context.Background(), b, fx)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want one that is %v", err, tc.wantErr)
			}

			durs := tc.durs
			if durs == nil {
				durs = tc.ops
			}
			got := collect(t, reader)
			checkMetric[int64](t, got, wantOps("map", tc.ops), len(tc.ops) == 0)
			checkMetric[float64](t, got, wantDurations("map", durs), len(durs) == 0)
			checkMetric[int64](t, got, wantIO("map", tc.io), len(tc.io) == 0)
			if len(got) != 3-btoi(len(tc.io) == 0) {
				t.Errorf("got instruments %v", keys(got))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMetricsLabelAndLevel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		opts  []hitboxotel.Option
		label string
		extra []attribute.KeyValue
	}{
		{"By default the backend attribute is the wrapped backend's label and there is no level.", nil, "map", nil},
		{"WithLabel replaces the backend attribute.", []hitboxotel.Option{hitboxotel.WithLabel("sessions")}, "sessions", nil},
		{"An empty WithLabel keeps the wrapped backend's label.", []hitboxotel.Option{hitboxotel.WithLabel("")}, "map", nil},
		{"WithLevel adds the level attribute.", []hitboxotel.Option{hitboxotel.WithLevel("l1")}, "map",
			[]attribute.KeyValue{hitboxotel.LevelKey.String("l1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reader, mp := newMeterProvider()
			fx := newFixture(t)
			opts := append([]hitboxotel.Option{hitboxotel.WithMeterProvider(mp), hitboxotel.WithClock(steppingClock())}, tc.opts...)
			b := hitboxotel.Metrics(opts...)(fx.store)
			if _, err := b.Get(context.Background(), keyFresh); err != nil {
				t.Fatal(err)
			}
			if b.Label() != "map" {
				t.Errorf("Label() = %q, want the wrapped backend's", b.Label())
			}
			got := collect(t, reader)
			pts := []point{{"get", "hit", "", 1}}
			checkMetric[int64](t, got, wantOps(tc.label, pts, tc.extra...), false)
			checkMetric[float64](t, got, wantDurations(tc.label, pts, tc.extra...), false)
			checkMetric[int64](t, got, wantIO(tc.label, []ioPoint{{"get", "read", 5}}, tc.extra...), false)
		})
	}
}

// TestMetricsNoKeys checks that no attribute of any data point holds a
// key, whatever the operation.
func TestMetricsNoKeys(t *testing.T) {
	t.Parallel()
	reader, mp := newMeterProvider()
	for _, tc := range metricsCases() {
		fx := newFixture(t)
		_ = tc.do(context.Background(), hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))(fx.fault), fx)
	}
	var rm metricdata.ResourceMetrics
	must(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range attributeSets(m.Data) {
				for _, kv := range set.ToSlice() {
					if v := kv.Value.String(); strings.Contains(v, "user:") || strings.Contains(v, "@") {
						t.Errorf("%s: attribute %s=%q holds a key", m.Name, kv.Key, v)
					}
				}
			}
		}
	}
}

func attributeSets(data metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// TestMetricsNoop checks that over the no-op provider the layer is still
// transparent: answers, misses and errors come through as they are.
func TestMetricsNoop(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	b := hitboxotel.Metrics(hitboxotel.WithMeterProvider(noop.NewMeterProvider()))(fx.fault)
	ctx := context.Background()
	e, err := b.Get(ctx, keyFresh)
	if err != nil || string(e.Value) != "hello" {
		t.Fatalf("Get = %q, %v", e.Value, err)
	}
	if _, err := b.Get(ctx, keyAbsent); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get absent: %v, want a miss", err)
	}
	must(t, b.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: t0.Add(time.Hour)}))
	rs, err := hitbox.GetMany(ctx, b, []string{"k", keyAbsent})
	if err != nil || string(rs[0].Entry.Value) != "v" || !errors.Is(rs[1].Err, hitbox.ErrMiss) {
		t.Fatalf("GetMany = %+v, %v", rs, err)
	}
	if fx.fault.Calls("getmany") != 1 {
		t.Errorf("GetMany reached the store as %d batch calls, want 1", fx.fault.Calls("getmany"))
	}
}

// refusing is a meter provider whose meter refuses every instrument.
type refusing struct{ noop.MeterProvider }

func (refusing) Meter(string, ...metric.MeterOption) metric.Meter { return refusingMeter{} }

type refusingMeter struct{ noop.Meter }

var errRefused = errors.New("refused")

func (refusingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return nil, errRefused
}

func (refusingMeter) Float64Histogram(string, ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return nil, errRefused
}

// TestMetricsRefused checks that a provider refusing the instruments does
// not stop the layer: the errors go to otel.Handle and calls pass through.
// It does not run in parallel: it swaps the global error handler.
func TestMetricsRefused(t *testing.T) {
	var handled atomic.Int64
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		if errors.Is(err, errRefused) {
			handled.Add(1)
		}
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	fx := newFixture(t)
	b := hitboxotel.Metrics(hitboxotel.WithMeterProvider(refusing{}))(fx.store)
	if e, err := b.Get(context.Background(), keyFresh); err != nil || string(e.Value) != "hello" {
		t.Fatalf("Get = %q, %v", e.Value, err)
	}
	if n := handled.Load(); n != 3 {
		t.Errorf("%d errors handled, want one per instrument (3)", n)
	}
}
