package otel_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/panics"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

func newTracerProvider() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	sr := tracetest.NewSpanRecorder()
	return sr, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
}

// spanAttrs returns a span's attributes as a set, to compare whole.
func spanAttrs(s sdktrace.ReadOnlySpan) *attribute.Set {
	set := attribute.NewSet(s.Attributes()...)
	return &set
}

type traceCase struct {
	name     string
	do       func(ctx context.Context, b hitbox.Backend, fx fixture) error
	wantErr  error
	span     string
	attrs    []attribute.KeyValue // besides backend and operation
	errClass string               // "": the status stays unset
}

func traceCases() []traceCase {
	kv := func(kvs ...attribute.KeyValue) []attribute.KeyValue { return kvs }
	res := hitboxotel.ResultKey.String
	size := hitboxotel.ValueSizeKey.Int
	cases := []traceCase{
		{
			name:  "A fresh entry makes a hit span with the value's size.",
			do:    get(keyFresh),
			span:  "hitbox.get",
			attrs: kv(res("hit"), size(5)),
		},
		{
			name:  "An entry past its Stale deadline makes a stale span.",
			do:    get(keyStale),
			span:  "hitbox.get",
			attrs: kv(res("stale"), size(4)),
		},
		{
			name:    "A miss is an answer: its span says so and its status stays unset.",
			do:      get(keyAbsent),
			wantErr: hitbox.ErrMiss,
			span:    "hitbox.get",
			attrs:   kv(res("miss")),
		},
		{
			name: "A set span carries the written value's size.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return b.Set(ctx, "k", hitbox.Entry{Value: []byte("abc")})
			},
			span:  "hitbox.set",
			attrs: kv(res("ok"), size(3)),
		},
		{
			name: "A delete span says ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return b.Delete(ctx, keyFresh)
			},
			span:  "hitbox.delete",
			attrs: kv(res("ok")),
		},
		{
			name: "A batch read span counts the answers by result and sums the sizes.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				_, err := hitbox.GetMany(ctx, b, []string{keyFresh, keyStale, keyAbsent, keyFresh})
				return err
			},
			span: "hitbox.getmany",
			attrs: kv(res("ok"), size(14), hitboxotel.BatchSizeKey.Int(4), hitboxotel.BatchHitsKey.Int(2),
				hitboxotel.BatchStaleKey.Int(1), hitboxotel.BatchMissesKey.Int(1), hitboxotel.BatchErrorsKey.Int(0)),
		},
		{
			name: "A failed batch read span records the error and the batch size.",
			do: func(ctx context.Context, b hitbox.Backend, fx fixture) error {
				fx.fault.FailGet(hitbox.ErrUnavailable)
				_, err := hitbox.GetMany(ctx, b, []string{keyFresh, keyAbsent})
				return err
			},
			wantErr:  hitbox.ErrUnavailable,
			span:     "hitbox.getmany",
			attrs:    kv(res("error"), hitboxotel.ErrorTypeKey.String("unavailable"), hitboxotel.BatchSizeKey.Int(2)),
			errClass: "unavailable",
		},
		{
			name: "A batch write span carries the item count and the bytes of all.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.SetMany(ctx, b, []hitbox.Item{
					{Key: "a", Entry: hitbox.Entry{Value: []byte("ab")}},
					{Key: "b", Entry: hitbox.Entry{Value: []byte("cde")}},
				})
			},
			span:  "hitbox.setmany",
			attrs: kv(res("ok"), size(5), hitboxotel.BatchSizeKey.Int(2)),
		},
		{
			name: "A batch delete span carries the key count.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.DeleteMany(ctx, b, []string{keyFresh, keyStale, keyAbsent})
			},
			span:  "hitbox.deletemany",
			attrs: kv(res("ok"), hitboxotel.BatchSizeKey.Int(3)),
		},
		{
			name: "A clear span says ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.Clear(ctx, b)
			},
			span:  "hitbox.clear",
			attrs: kv(res("ok")),
		},
		{
			name: "A prefix clear span says ok and does not record the prefix.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				return hitbox.ClearPrefix(ctx, b, "f")
			},
			span:  "hitbox.clearprefix",
			attrs: kv(res("ok")),
		},
		{
			name: "A remove span of a present key says ok.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				if removed, err := hitbox.Remove(ctx, b, keyFresh); err != nil || !removed {
					return fmt.Errorf("Remove = %v, %v; want true", removed, err)
				}
				return nil
			},
			span:  "hitbox.remove",
			attrs: kv(res("ok")),
		},
		{
			name: "A remove span of an absent key says miss, which is no error.",
			do: func(ctx context.Context, b hitbox.Backend, _ fixture) error {
				if removed, err := hitbox.Remove(ctx, b, keyAbsent); err != nil || removed {
					return fmt.Errorf("Remove = %v, %v; want false", removed, err)
				}
				return nil
			},
			span:  "hitbox.remove",
			attrs: kv(res("miss")),
		},
	}
	for _, c := range errorClasses {
		cases = append(cases, traceCase{
			name:     fmt.Sprintf("A get failing with %q records the error with class %s.", c.err, c.class),
			do:       failingGet(c.err),
			wantErr:  c.err,
			span:     "hitbox.get",
			attrs:    kv(res("error"), hitboxotel.ErrorTypeKey.String(c.class)),
			errClass: c.class,
		})
	}
	return cases
}

func TestTrace(t *testing.T) {
	t.Parallel()
	for _, tc := range traceCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := newTracerProvider()
			fx := newFixture(t)
			b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp), hitboxotel.WithClock(steppingClock()))(fx.fault)

			err := tc.do(context.Background(), b, fx)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want one that is %v", err, tc.wantErr)
			}

			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != tc.span || s.SpanKind() != trace.SpanKindInternal {
				t.Errorf("span %q of kind %v, want %q of kind internal", s.Name(), s.SpanKind(), tc.span)
			}
			op := strings.TrimPrefix(tc.span, "hitbox.")
			want := attribute.NewSet(append([]attribute.KeyValue{
				hitboxotel.BackendKey.String("map"), hitboxotel.OperationKey.String(op),
			}, tc.attrs...)...)
			if got := spanAttrs(s); !got.Equals(&want) {
				t.Errorf("attributes\n got %v\nwant %v", got.ToSlice(), want.ToSlice())
			}
			if tc.errClass == "" {
				if s.Status().Code != codes.Unset || len(s.Events()) != 0 {
					t.Errorf("status %v, events %v: want unset, none", s.Status(), s.Events())
				}
				return
			}
			if s.Status().Code != codes.Error || s.Status().Description != err.Error() {
				t.Errorf("status %+v, want Error %q", s.Status(), err)
			}
			if ev := s.Events(); len(ev) != 1 || ev[0].Name != "exception" {
				t.Errorf("events %v, want one exception", ev)
			}
		})
	}
}

// TestTraceNested checks that spans nest when a traced pipeline holds a
// traced store, with metrics between them: each span is the child of the
// one above, and the store sees the innermost span in its context.
func TestTraceNested(t *testing.T) {
	t.Parallel()
	sr, tp := newTracerProvider()
	reader, mp := newMeterProvider()
	fx := newFixture(t)
	b := hitbox.Chain(
		hitboxotel.Trace(hitboxotel.WithTracerProvider(tp), hitboxotel.WithLabel("pipeline")),
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp)),
		hitboxotel.Trace(hitboxotel.WithTracerProvider(tp), hitboxotel.WithLevel("l1"), hitboxotel.WithSpanKind(trace.SpanKindClient)),
	).Then(fx.fault)

	ctx, root := tp.Tracer("test").Start(context.Background(), "request")
	if _, err := b.Get(ctx, keyFresh); err != nil {
		t.Fatal(err)
	}
	root.End()

	spans := sr.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	inner, outer, req := spans[0], spans[1], spans[2]
	if inner.Parent().SpanID() != outer.SpanContext().SpanID() || outer.Parent().SpanID() != req.SpanContext().SpanID() {
		t.Errorf("spans do not nest: inner's parent %v, outer %v; outer's parent %v, request %v",
			inner.Parent().SpanID(), outer.SpanContext().SpanID(), outer.Parent().SpanID(), req.SpanContext().SpanID())
	}
	if inner.SpanContext().TraceID() != req.SpanContext().TraceID() {
		t.Error("inner span is in another trace")
	}
	if v, _ := spanAttrs(outer).Value(hitboxotel.BackendKey); v.AsString() != "pipeline" {
		t.Errorf("outer span backend %q, want pipeline", v.AsString())
	}
	if v, _ := spanAttrs(inner).Value(hitboxotel.LevelKey); v.AsString() != "l1" || inner.SpanKind() != trace.SpanKindClient {
		t.Errorf("inner span level %q, kind %v; want l1, client", v.AsString(), inner.SpanKind())
	}
	if got := trace.SpanFromContext(fx.fault.Seen()).SpanContext().SpanID(); got != inner.SpanContext().SpanID() {
		t.Errorf("store saw span %v, want the inner one %v", got, inner.SpanContext().SpanID())
	}
	if _, ok := collect(t, reader)["hitbox.operations"]; !ok {
		t.Error("the metrics between the spans counted nothing")
	}
}

// TestTraceNoKeys checks that no attribute or event of any span holds a
// key by default.
func TestTraceNoKeys(t *testing.T) {
	t.Parallel()
	sr, tp := newTracerProvider()
	for _, tc := range traceCases() {
		fx := newFixture(t)
		_ = tc.do(context.Background(), hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(fx.fault), fx)
	}
	for _, s := range sr.Ended() {
		kvs := s.Attributes()
		for _, ev := range s.Events() {
			kvs = append(kvs, ev.Attributes...)
		}
		for _, kv := range kvs {
			if kv.Key == hitboxotel.KeyHashKey {
				t.Errorf("%s: key hash recorded without WithKeyHash", s.Name())
			}
			if v := kv.Value.String(); strings.Contains(v, "user:") || strings.Contains(v, "@") {
				t.Errorf("%s: attribute %s=%q holds a key", s.Name(), kv.Key, v)
			}
		}
	}
}

func TestTraceKeyHash(t *testing.T) {
	t.Parallel()
	hash := func(secret, key string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(key))
		return hex.EncodeToString(m.Sum(nil)[:8])
	}
	cases := []struct {
		name   string
		secret string
	}{
		{"With a secret the hash is an HMAC-SHA256 of the key, cut to 8 bytes.", "s3cret"},
		{"Without a secret it is the HMAC with an empty key.", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := newTracerProvider()
			fx := newFixture(t)
			b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp), hitboxotel.WithKeyHash([]byte(tc.secret)))(fx.store)
			ctx := context.Background()
			_, _ = b.Get(ctx, keyFresh)
			must(t, b.Set(ctx, keyStale, hitbox.Entry{Value: []byte("x")}))
			must(t, b.Delete(ctx, keyFresh))
			for i, s := range sr.Ended() {
				key := []string{keyFresh, keyStale, keyFresh}[i]
				v, ok := spanAttrs(s).Value(hitboxotel.KeyHashKey)
				if want := hash(tc.secret, key); !ok || v.AsString() != want {
					t.Errorf("%s: key hash %q, want %q", s.Name(), v.AsString(), want)
				}
			}
		})
	}
}

// TestTraceNoop checks that over the API's no-op provider the layer starts
// nothing and stays transparent.
func TestTraceNoop(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	b := hitboxotel.Trace(hitboxotel.WithTracerProvider(noop.NewTracerProvider()))(fx.fault)
	ctx := context.Background()
	if e, err := b.Get(ctx, keyFresh); err != nil || string(e.Value) != "hello" {
		t.Fatalf("Get = %q, %v", e.Value, err)
	}
	if got := fx.fault.Seen(); got != ctx {
		t.Error("the store did not get the caller's context as it was")
	}
	fx.fault.FailGet(hitbox.ErrCorrupt)
	if _, err := b.Get(ctx, keyFresh); !errors.Is(err, hitbox.ErrCorrupt) {
		t.Fatalf("Get: %v, want the store's error", err)
	}
}

// TestInvalidOptions checks the constructor rule for the functional
// options: an option that cannot work makes both layers panic with exactly
// the message Validate returns.
func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []hitboxotel.Option
		want string
	}{
		{"A span kind OpenTelemetry does not define cannot work.",
			[]hitboxotel.Option{hitboxotel.WithLabel("x"), hitboxotel.WithSpanKind(trace.SpanKind(9))},
			"hitbox/otel: WithSpanKind: unknown span kind 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := hitboxotel.Validate(tc.opts...); err == nil || err.Error() != tc.want {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
			for name, layer := range map[string]func(...hitboxotel.Option) hitbox.Layer{
				"Metrics": hitboxotel.Metrics, "Trace": hitboxotel.Trace,
			} {
				got := panics.Message(func() { layer(tc.opts...) })
				if got != tc.want {
					t.Errorf("%s panicked with %q, want %q", name, got, tc.want)
				}
			}
		})
	}
	if err := hitboxotel.Validate(hitboxotel.WithSpanKind(trace.SpanKindClient), hitboxotel.WithClock(nil)); err != nil {
		t.Errorf("Validate of valid options = %v, want nil", err)
	}
}
