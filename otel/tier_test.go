package otel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
	"github.com/hitbox-go/hitbox/tier"
)

// tierFixture is a two-level tier of map stores labelled l1 and l2, both
// holding keyFresh.
type tierFixture struct {
	l1, l2 *mapstore.Store
	tier   *tier.Tier
}

func newTierFixture(t *testing.T, opts tier.Options) tierFixture {
	t.Helper()
	now := func() time.Time { return t0 }
	fx := tierFixture{
		l1: mapstore.New(mapstore.Options{Label: "l1", Now: now}),
		l2: mapstore.New(mapstore.Options{Label: "l2", Now: now}),
	}
	opts.Now = now
	fx.tier = tier.NewWith(opts, fx.l1, fx.l2)
	t.Cleanup(func() { must(t, fx.tier.Close()) })
	must(t, fx.tier.Set(context.Background(), keyFresh, hitbox.Entry{Value: []byte("hello"), Expire: t0.Add(time.Hour)}))
	return fx
}

// tierAttrs returns the tier path and level a span carries, and whether
// it carries each.
func tierAttrs(s sdktrace.ReadOnlySpan) (path string, hasPath bool, level int64, hasLevel bool) {
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case hitboxotel.AnswerPathKey:
			path, hasPath = kv.Value.AsString(), true
		case hitboxotel.AnswerLevelKey:
			level, hasLevel = kv.Value.AsInt64(), true
		}
	}
	return path, hasPath, level, hasLevel
}

func TestTraceTierPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    tier.Options
		prepare func(t *testing.T, fx tierFixture)
		key     string
		wantErr error
		path    string // "": no hitbox.tier.path nor hitbox.tier.level
		level   int64
	}{
		{
			name: "A hit in L1 names L1 under the tier.",
			key:  keyFresh,
			path: "tier.l1",
		},
		{
			name: "Once L1 has lost the key, the hit names L2 and level 1.",
			prepare: func(t *testing.T, fx tierFixture) {
				must(t, fx.l1.Delete(context.Background(), keyFresh))
			},
			key:   keyFresh,
			path:  "tier.l2",
			level: 1,
		},
		{
			name:    "A miss in every level records no path.",
			key:     keyAbsent,
			wantErr: hitbox.ErrMiss,
		},
		{
			name: "The path starts with the tier's own label.",
			opts: tier.Options{Label: "cache"},
			key:  keyFresh,
			path: "cache.l1",
		},
		{
			name: "A race read names the level that won it.",
			opts: tier.Options{Read: tier.ReadRace},
			prepare: func(t *testing.T, fx tierFixture) {
				must(t, fx.l1.Delete(context.Background(), keyFresh))
			},
			key:   keyFresh,
			path:  "tier.l2",
			level: 1,
		},
		{
			name: "A parallel read names the level whose answer it kept.",
			opts: tier.Options{Read: tier.ReadParallel},
			key:  keyFresh,
			path: "tier.l1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := newTierFixture(t, tc.opts)
			if tc.prepare != nil {
				tc.prepare(t, fx)
			}
			sr, tp := newTracerProvider()
			b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(fx.tier)
			if _, err := b.Get(context.Background(), tc.key); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Get: %v, want %v", err, tc.wantErr)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			path, hasPath, level, hasLevel := tierAttrs(spans[0])
			if tc.path == "" {
				if hasPath || hasLevel {
					t.Errorf("path %q (%v), level %d (%v); want neither", path, hasPath, level, hasLevel)
				}
				return
			}
			if !hasPath || path != tc.path || !hasLevel || level != tc.level {
				t.Errorf("path %q (%v), level %d (%v); want %q, %d", path, hasPath, level, hasLevel, tc.path, tc.level)
			}
		})
	}
}

// TestTraceTierCallerSource checks that a caller that asked the tier which
// level answered still gets its answer through a Trace layer, and that the
// span says the same.
func TestTraceTierCallerSource(t *testing.T) {
	t.Parallel()
	fx := newTierFixture(t, tier.Options{})
	must(t, fx.l1.Delete(context.Background(), keyFresh))
	sr, tp := newTracerProvider()
	b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(fx.tier)

	ctx, src := hitbox.TrackAnswer(context.Background())
	if _, err := b.Get(ctx, keyFresh); err != nil {
		t.Fatal(err)
	}
	if !src.Found() || src.Path() != "tier.l2" || src.Level() != 1 {
		t.Errorf("caller's source: found %v, path %q, level %d; want tier.l2, 1", src.Found(), src.Path(), src.Level())
	}
	path, _, level, _ := tierAttrs(sr.Ended()[0])
	if path != "tier.l2" || level != 1 {
		t.Errorf("span: path %q, level %d; want tier.l2, 1", path, level)
	}
}

// TestTraceTierNested checks the path through a tier that is a level of
// another, with Trace layers at both depths: each span names the levels
// below it, and the span over a plain store names none.
func TestTraceTierNested(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return t0 }
	sr, tp := newTracerProvider()
	traced := func(b hitbox.Backend) hitbox.Backend {
		return hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(b)
	}
	l2 := mapstore.New(mapstore.Options{Label: "redis", Now: now})
	inner := tier.NewWith(tier.Options{Label: "inner", Now: now}, mapstore.New(mapstore.Options{Now: now}), l2)
	outer := tier.NewWith(tier.Options{Label: "outer", Now: now}, traced(mapstore.New(mapstore.Options{Label: "memory", Now: now})), traced(inner))
	t.Cleanup(func() { must(t, outer.Close()) })
	ctx := context.Background()
	must(t, l2.Set(ctx, keyFresh, hitbox.Entry{Value: []byte("hello"), Expire: t0.Add(time.Hour)}))

	if _, err := traced(outer).Get(ctx, keyFresh); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		path  string
		level int64
	}{
		"memory": {},                 // missed
		"inner":  {"inner.redis", 1}, // L2 of the inner tier
		"outer":  {"outer.inner.redis", 1},
	}
	var spans []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.Name() == "hitbox.get" { // not the refill of memory
			spans = append(spans, s)
		}
	}
	if len(spans) != len(want) {
		t.Fatalf("%d get spans, want %d", len(spans), len(want))
	}
	for _, s := range spans {
		var backend string
		for _, kv := range s.Attributes() {
			if kv.Key == hitboxotel.BackendKey {
				backend = kv.Value.AsString()
			}
		}
		w, ok := want[backend]
		if !ok {
			t.Errorf("span over %q", backend)
			continue
		}
		path, hasPath, level, _ := tierAttrs(s)
		if path != w.path || level != w.level || hasPath != (w.path != "") {
			t.Errorf("span over %s: path %q (%v), level %d; want %q, %d", backend, path, hasPath, level, w.path, w.level)
		}
	}
}

// TestTraceNoTier checks that a get span over a plain store carries no
// tier attributes, with or without a Source in the caller's context.
func TestTraceNoTier(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	sr, tp := newTracerProvider()
	b := hitbox.Chain(hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))).Then(fx.store)
	traceCtx, src := hitbox.TrackAnswer(context.Background())
	for _, ctx := range []context.Context{context.Background(), traceCtx} {
		if _, err := b.Get(ctx, keyFresh); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sr.Ended() {
		if path, hasPath, _, hasLevel := tierAttrs(s); hasPath || hasLevel {
			t.Errorf("path %q on a span over no tier", path)
		}
	}
	if src.Found() {
		t.Errorf("caller's source found %q over no tier", src.Path())
	}
}

// TestTraceTierConcurrent reads through one Trace layer over a race tier
// from many goroutines, so that the Sources the layer reuses are shared
// out under the race detector: every span names the level that holds its
// key, and none another's.
func TestTraceTierConcurrent(t *testing.T) {
	t.Parallel()
	fx := newTierFixture(t, tier.Options{Read: tier.ReadRace})
	ctx := context.Background()
	// keyStale starts in L2 only, and is copied to L1 by the first hit.
	must(t, fx.l2.Set(ctx, keyStale, hitbox.Entry{Value: []byte("l2"), Expire: t0.Add(time.Hour)}))
	sr, tp := newTracerProvider()
	b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(fx.tier)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := keyAbsent
				if (g+i)%2 == 0 {
					key = keyStale
				}
				_, _ = b.Get(ctx, key)
			}
		}()
	}
	wg.Wait()
	for _, s := range sr.Ended() {
		path, hasPath, _, _ := tierAttrs(s)
		var result string
		for _, kv := range s.Attributes() {
			if kv.Key == hitboxotel.ResultKey {
				result = kv.Value.AsString()
			}
		}
		switch {
		case result == "miss" && hasPath:
			t.Errorf("a miss with path %q", path)
		case result == "hit" && path != "tier.l1" && path != "tier.l2":
			t.Errorf("a hit with path %q", path)
		}
	}
}

// TestTraceTierUnproven checks that a get span says when the tier answered
// from a local copy it could not prove current (a bus gap whose shared
// level fails), and only then.
func TestTraceTierUnproven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := func() time.Time { return t0 }
	bus := hitbox.NewLocalBus()
	l2 := faulty.Wrap(mapstore.New(mapstore.Options{Label: "l2", Now: now}))
	tr := tier.NewWith(tier.Options{Now: now, Bus: bus}, mapstore.New(mapstore.Options{Label: "l1", Now: now}), l2)
	t.Cleanup(func() { must(t, tr.Close()) })
	must(t, tr.Set(ctx, keyFresh, hitbox.Entry{Value: []byte("hello"), Expire: t0.Add(time.Hour)}))
	sr, tp := newTracerProvider()
	b := hitboxotel.Trace(hitboxotel.WithTracerProvider(tp))(tr)
	unproven := func() bool {
		t.Helper()
		if _, err := b.Get(ctx, keyFresh); err != nil {
			t.Fatal(err)
		}
		spans := sr.Ended()
		for _, kv := range spans[len(spans)-1].Attributes() {
			if kv.Key == hitboxotel.AnswerUnprovenKey {
				return kv.Value.AsBool()
			}
		}
		return false
	}
	if unproven() {
		t.Error("an L1 hit with the bus up is marked unproven")
	}
	bus.Interrupt()
	l2.FailGet(errors.New("shared level down"))
	if !unproven() {
		t.Error("the L1 copy served in a bus gap while L2 fails is not marked unproven")
	}
}
