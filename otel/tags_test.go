package otel_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/hitbox-go/hitbox"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// tagsCase is one call of the tag operations through a layer over the
// fixture's store (which keeps tags) or over its Basic view (which does
// not).
type tagsCase struct {
	name    string
	basic   bool // the layer wraps a store without tags
	do      func(ctx context.Context, b hitbox.Backend) error
	wantErr error

	ops  []point // Metrics
	durs []point // nil: the same as ops
	io   []ioPoint

	span  string               // Trace
	attrs []attribute.KeyValue // besides backend and operation
	class string               // error class; "": the status stays unset
}

// userTag is what a tag often holds, and so what no span may record.
const userTag = "user:42@example.com"

func tagsCases() []tagsCase {
	res := hitboxotel.ResultKey.String
	size := hitboxotel.ValueSizeKey.Int
	count := hitboxotel.TagCountKey.Int
	errType := hitboxotel.ErrorTypeKey.String
	e := hitbox.Entry{Value: []byte("hello"), Expire: t0.Add(time.Hour)}
	return []tagsCase{
		{
			name: "A tagged write is a set: counted ok with its bytes written, its span counting the tags.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				return hitbox.SetTagged(ctx, b, "k", e, userTag, "product:7")
			},
			ops:  []point{{"set", "ok", "", 1}},
			io:   []ioPoint{{"set", "write", 5}},
			span: "hitbox.set", attrs: []attribute.KeyValue{res("ok"), size(5), count(2)},
		},
		{
			name: "A tagged read of a fresh entry is a get hit, and returns the tags.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				_, tags, err := hitbox.GetTagged(ctx, b, "tagged")
				if err == nil && !slices.Equal(tags, []string{userTag}) {
					return errors.New("GetTagged lost the tags: " + strings.Join(tags, ","))
				}
				return err
			},
			ops:  []point{{"get", "hit", "", 1}},
			io:   []ioPoint{{"get", "read", 6}},
			span: "hitbox.get", attrs: []attribute.KeyValue{res("hit"), size(6)},
		},
		{
			name: "A tagged read of an absent key is a get miss.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				_, _, err := hitbox.GetTagged(ctx, b, keyAbsent)
				return err
			},
			wantErr: hitbox.ErrMiss,
			ops:     []point{{"get", "miss", "", 1}},
			span:    "hitbox.get", attrs: []attribute.KeyValue{res("miss")},
		},
		{
			name: "A purge counts one invalidatetags per tag and one call; its span counts the tags and never names them.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				return hitbox.InvalidateTags(ctx, b, userTag, "product:7")
			},
			ops:     []point{{"invalidatetags", "ok", "", 2}},
			durs:    []point{{"invalidatetags", "ok", "", 1}},
			span:    "hitbox.invalidatetags",
			attrs:   []attribute.KeyValue{res("ok"), count(2)},
			wantErr: nil,
		},
		{
			name:    "A purge over a store without tags fails as not_supported.",
			basic:   true,
			do:      func(ctx context.Context, b hitbox.Backend) error { return hitbox.InvalidateTags(ctx, b, userTag) },
			wantErr: hitbox.ErrNotSupported,
			ops:     []point{{"invalidatetags", "error", "not_supported", 1}},
			span:    "hitbox.invalidatetags",
			attrs:   []attribute.KeyValue{res("error"), errType("not_supported"), count(1)},
			class:   "not_supported",
		},
		{
			name:    "A tagged write over a store without tags fails as not_supported.",
			basic:   true,
			do:      func(ctx context.Context, b hitbox.Backend) error { return hitbox.SetTagged(ctx, b, "k", e, userTag) },
			wantErr: hitbox.ErrNotSupported,
			ops:     []point{{"set", "error", "not_supported", 1}},
			span:    "hitbox.set",
			attrs:   []attribute.KeyValue{res("error"), errType("not_supported"), size(5), count(1)},
			class:   "not_supported",
		},
		{
			name: "A lease is counted as a lease; its span counts the tags and never names them.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				l, err := hitbox.TakeLease(ctx, b, "k", []string{userTag})
				if err == nil && !l.Valid() {
					return errors.New("the zero Lease over a Leaser")
				}
				return err
			},
			ops:  []point{{"lease", "ok", "", 1}},
			span: "hitbox.lease", attrs: []attribute.KeyValue{res("ok"), count(1)},
		},
		{
			name: "A leased write is a set: counted ok with its bytes written, its span counting the tags.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				below := b.(hitbox.Unwrapper).Unwrap()
				l, err := hitbox.TakeLease(ctx, below, "k", []string{userTag})
				if err != nil {
					return err
				}
				return hitbox.SetLeased(ctx, b, "k", e, []string{userTag}, l)
			},
			ops:  []point{{"set", "ok", "", 1}},
			io:   []ioPoint{{"set", "write", 5}},
			span: "hitbox.set", attrs: []attribute.KeyValue{res("ok"), size(5), count(1)},
		},
		{
			name: "A leased write a change crossed is a set with result lost, not an error, and writes no bytes.",
			do: func(ctx context.Context, b hitbox.Backend) error {
				below := b.(hitbox.Unwrapper).Unwrap()
				l, err := hitbox.TakeLease(ctx, below, "k", nil)
				if err != nil {
					return err
				}
				if err := below.Delete(ctx, "k"); err != nil {
					return err
				}
				return hitbox.SetLeased(ctx, b, "k", e, nil, l)
			},
			wantErr: hitbox.ErrLeaseLost,
			ops:     []point{{"set", "lost", "", 1}},
			span:    "hitbox.set", attrs: []attribute.KeyValue{res("lost"), size(5), count(0)},
		},
		{
			name:    "A purge of an empty tag is refused as invalid_tag.",
			do:      func(ctx context.Context, b hitbox.Backend) error { return b.(hitbox.Tagger).InvalidateTags(ctx, "") },
			wantErr: hitbox.ErrInvalidTag,
			ops:     []point{{"invalidatetags", "error", "invalid_tag", 1}},
			span:    "hitbox.invalidatetags",
			attrs:   []attribute.KeyValue{res("error"), errType("invalid_tag"), count(1)},
			class:   "invalid_tag",
		},
	}
}

// tagsFixture is the fixture with an entry tagged userTag under "tagged".
func tagsFixture(t *testing.T, basic bool) hitbox.Backend {
	t.Helper()
	fx := newFixture(t)
	must(t, fx.store.SetTagged(context.Background(), "tagged", hitbox.Entry{Value: []byte("tagged"), Expire: t0.Add(time.Hour)}, []string{userTag}))
	if basic {
		return fx.store.Basic()
	}
	return fx.store
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("error %v, want none", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v, want one that is %v", err, want)
	}
}

func TestMetricsTags(t *testing.T) {
	t.Parallel()
	for _, tc := range tagsCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reader, mp := newMeterProvider()
			b := hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp), hitboxotel.WithClock(steppingClock()))(tagsFixture(t, tc.basic))
			if _, ok := b.(hitbox.Tagger); !ok {
				t.Fatal("the Metrics layer is not a hitbox.Tagger")
			}
			checkErr(t, tc.do(context.Background(), b), tc.wantErr)
			durs := tc.durs
			if durs == nil {
				durs = tc.ops
			}
			got := collect(t, reader)
			checkMetric[int64](t, got, wantOps("map", tc.ops), false)
			checkMetric[float64](t, got, wantDurations("map", durs), false)
			checkMetric[int64](t, got, wantIO("map", tc.io), len(tc.io) == 0)
		})
	}
}

func TestTraceTags(t *testing.T) {
	t.Parallel()
	for _, tc := range tagsCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := newTracerProvider()
			b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp), hitboxotel.WithClock(steppingClock()))(tagsFixture(t, tc.basic))
			if _, ok := b.(hitbox.Tagger); !ok {
				t.Fatal("the Trace layer is not a hitbox.Tagger")
			}
			err := tc.do(context.Background(), b)
			checkErr(t, err, tc.wantErr)
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			op := strings.TrimPrefix(tc.span, "hitbox.")
			want := attribute.NewSet(append([]attribute.KeyValue{
				hitboxotel.BackendKey.String("map"), hitboxotel.OperationKey.String(op),
			}, tc.attrs...)...)
			if s.Name() != tc.span {
				t.Errorf("span %q, want %q", s.Name(), tc.span)
			}
			if got := spanAttrs(s); !got.Equals(&want) {
				t.Errorf("attributes\n got %v\nwant %v", got.ToSlice(), want.ToSlice())
			}
			for _, kv := range s.Attributes() {
				if strings.Contains(kv.Value.String(), "user:") {
					t.Errorf("attribute %s=%q holds a tag", kv.Key, kv.Value.String())
				}
			}
			if tc.class == "" {
				if s.Status().Code != codes.Unset {
					t.Errorf("status %v, want unset", s.Status())
				}
			} else if s.Status().Code != codes.Error {
				t.Errorf("status %v, want Error", s.Status())
			}
		})
	}
}

// TestTagsNoop checks that over the no-op providers the tag calls pass
// straight through, tags included.
func TestTagsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, l := range []hitbox.Layer{
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(metricnoop.NewMeterProvider())),
		hitboxotel.Trace(hitboxotel.WithTracerProvider(tracenoop.NewTracerProvider())),
	} {
		b := l(tagsFixture(t, false))
		must(t, hitbox.SetTagged(ctx, b, "k", hitbox.Entry{Value: []byte("v")}, "t"))
		if _, tags, err := hitbox.GetTagged(ctx, b, "k"); err != nil || !slices.Equal(tags, []string{"t"}) {
			t.Fatalf("GetTagged: %q, %v", tags, err)
		}
		must(t, hitbox.InvalidateTags(ctx, b, "t"))
		if _, err := b.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
			t.Fatalf("Get after the purge: %v, want a miss", err)
		}
	}
}
