package hitboxtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// errInjected is the failure the suite plants in the store under a layer;
// it must come out the top still visible to errors.Is.
var errInjected = errors.New("hitboxtest: injected failure")

// hangBound is how long the suite waits for a call to reach the store, and
// promptBound how long for a held call to return once its context is
// cancelled, before reporting a hang rather than leaving the whole test
// binary to time out. They are guards, not measures of speed: a layer that
// passes cancellation through returns in microseconds.
const (
	hangBound   = 30 * time.Second
	promptBound = 2 * time.Second
)

// smallValue is the size of values every layer must accept: checks other
// than the round trip by size use values no larger.
const smallValue = 256

// TestLayer runs the Layer contract: it wraps a store of its own (internal
// mapstore behind internal faulty) in l and checks transparency.
//
// The layer may change values, keys and how entries are kept below it
// (compress, encode, prefix); the suite only looks at what comes out of the
// top and at which calls, errors and contexts reach the store. A layer may
// refuse Clear and ClearPrefix with an error wrapping hitbox.ErrNotSupported
// (a layer that owns part of the keys clears its part with the store's
// ClearPrefix instead) and may refuse values it finds too large with
// hitbox.ErrTooLarge (though it must accept values of 256 bytes, and a
// value it accepts must come back); everything else must pass through.
//
// Options{} suits most layers; opts.MaxValueSize is for a layer with a size
// limit of its own, opts.LargeValue for one whose limit is above
// DefaultLargeValue.
func TestLayer(t *testing.T, l hitbox.Layer, opts Options) {
	t.Helper()
	if l == nil {
		t.Fatal("TestLayer: nil Layer")
	}
	s := &layerSuite{l: l, opts: opts}
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"the label is not empty", s.label},
		{"Unwrap, when implemented, returns a backend", s.unwrap},
		{"every optional ability is forwarded", s.abilities},
		{"a miss passes through", s.miss},
		{"an empty key is still refused by every operation", s.emptyKey},
		{"a done context fails every operation", s.doneCtx},
		{"values round-trip through the layer", s.values},
		{"a value Set accepts, Get returns", s.accepted},
		{"deadlines round-trip through the layer", s.deadlines},
		{"an expired entry is a miss through the layer", s.expired},
		{"a value read stays intact while other calls run", s.readIntact},
		{"a failure below stays visible through the layer", s.failures},
		{"context values and deadlines reach the store", s.contexts},
		{"cancelling a call held in the store returns Canceled", s.cancelHeld},
		{"batch calls reach the store as batches and answer like loops", s.batches},
		{"Clear forwards", s.clear},
		{"ClearPrefix and Remove forward", s.prefixAndRemove},
		{"Close forwards and is idempotent", s.close},
		{"concurrent calls through the layer are safe", s.concurrent},
		{"tags", s.tags},
		{"leases", s.leases},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

type layerSuite struct {
	l    hitbox.Layer
	opts Options

	mu     sync.Mutex
	stores map[hitbox.Backend]*mapstore.Store // under each top fresh built, for sibling
}

// stack is one layer over a faulty mapstore on a fake clock.
type stack struct {
	top   hitbox.Backend
	fault *faulty.Backend
	store *mapstore.Store
	clock *Clock
}

func (s *layerSuite) fresh(t *testing.T) stack {
	t.Helper()
	c := NewClock(start)
	st := mapstore.New(mapstore.Options{Label: "hitboxtest", Now: c.Now})
	f := faulty.Wrap(st)
	top := s.l(taggedFaulty{f, st})
	if top == nil {
		t.Fatal("the layer returned a nil Backend")
	}
	t.Cleanup(func() { _ = st.Close() })
	s.mu.Lock()
	if s.stores == nil {
		s.stores = make(map[hitbox.Backend]*mapstore.Store)
	}
	s.stores[top] = st
	s.mu.Unlock()
	return stack{top: top, fault: f, store: st, clock: c}
}

// sibling returns the layer over another namespace (layer.Prefix) of the
// store under b, which fresh built: the tag checks' Options.Sibling, so a
// layer that purged beyond the tags it was given fails them.
func (s *layerSuite) sibling(t *testing.T, b hitbox.Backend) hitbox.Backend {
	s.mu.Lock()
	st, ok := s.stores[b]
	s.mu.Unlock()
	if !ok {
		t.Fatalf("Sibling of a backend the suite did not build: %v", b)
	}
	return s.l(layer.Prefix("sibling:")(st))
}

// tags runs the hitbox.Tagger checks through the layer when it forwards
// the ability (the store under it is a Tagger).
func (s *layerSuite) tags(t *testing.T) {
	tagsSuite{fresh: func(t *testing.T) hitbox.Backend { return s.fresh(t).top }, maxLen: s.opts.MaxTagLen, sibling: s.sibling}.run(t)
}

func (s *layerSuite) label(t *testing.T) {
	if s.fresh(t).top.Label() == "" {
		t.Error("Label() is empty")
	}
}

func (s *layerSuite) unwrap(t *testing.T) {
	u, ok := s.fresh(t).top.(hitbox.Unwrapper)
	if !ok {
		t.Skip("not a hitbox.Unwrapper")
	}
	if u.Unwrap() == nil {
		t.Error("Unwrap() returned nil")
	}
}

func (s *layerSuite) miss(t *testing.T) {
	st := s.fresh(t)
	wantMiss(t, st.top, "absent")
	mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v")})
	if err := st.top.Delete(context.Background(), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMiss(t, st.top, "k")
	res, err := hitbox.GetMany(context.Background(), st.top, []string{"absent", "k"})
	if err != nil || len(res) != 2 || !isMiss(res[0].Err) || !isMiss(res[1].Err) {
		t.Errorf("GetMany of absent keys = %v, %v; want two misses", res, err)
	}
}

func (s *layerSuite) emptyKey(t *testing.T) {
	st := s.fresh(t)
	for op, err := range everyOp(st.top, "", hitbox.Entry{Value: []byte("v")}) {
		if !errors.Is(err, hitbox.ErrInvalidKey) {
			t.Errorf("%s with an empty key: %v, want ErrInvalidKey", op, err)
		}
	}
	if n := st.store.Len(); n != 0 {
		t.Errorf("the store holds %d entries after writes with an empty key, want 0", n)
	}
}

func (s *layerSuite) doneCtx(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		st := s.fresh(t)
		mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v")})
		for op, err := range everyOpCtx(tc.ctx, st.top, "k", hitbox.Entry{Value: []byte("w")}) {
			if !errors.Is(err, tc.want) {
				t.Errorf("%s under a done context: %v, want an error wrapping %v", op, err, tc.want)
			}
		}
	}
}

func (s *layerSuite) values(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			t.Parallel()
			st := s.fresh(t)
			v := append([]byte(nil), sz.v...)
			err := st.top.Set(context.Background(), "k", hitbox.Entry{Value: v})
			if errors.Is(err, hitbox.ErrTooLarge) {
				t.Skipf("the layer refuses it: %v", err)
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			for i := range v {
				v[i] ^= 0xff // the layer must not have kept the caller's slice
			}
			if d := diffEntry(mustGet(t, st.top, "k"), hitbox.Entry{Value: sz.v}, 0, false); d != "" {
				t.Errorf("Get after Set:%s", d)
			}
		})
	}
}

func (s *layerSuite) accepted(t *testing.T) {
	checkAccepted(t, s.fresh(t).top, s.opts.MaxValueSize, s.opts)
}

func (s *layerSuite) deadlines(t *testing.T) {
	st := s.fresh(t)
	now := st.clock.Now()
	for i, want := range []hitbox.Entry{
		{Value: []byte("none")},
		{Value: []byte("expire"), Expire: now.Add(time.Hour)},
		{Value: []byte("both"), Expire: now.Add(time.Hour), Stale: now.Add(time.Minute)},
		{Value: []byte("stale passed"), Expire: now.Add(time.Hour), Stale: now.Add(-time.Minute)},
		{Value: []byte("stale alone"), Stale: now.Add(time.Minute)},
	} {
		key := fmt.Sprint("k", i)
		mustSet(t, st.top, key, want)
		if d := diffEntry(mustGet(t, st.top, key), want, 0, false); d != "" {
			t.Errorf("Get after Set of %q:%s", want.Value, d)
		}
	}
}

func (s *layerSuite) expired(t *testing.T) {
	st := s.fresh(t)
	mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v"), Expire: st.clock.Now().Add(time.Minute)})
	mustSet(t, st.top, "past", hitbox.Entry{Value: []byte("v"), Expire: st.clock.Now().Add(-time.Minute)})
	wantMiss(t, st.top, "past")
	st.clock.Advance(time.Minute)
	wantMiss(t, st.top, "k")
}

// readIntact catches layers that hand out a pooled buffer: a value read
// must not change when the layer serves other calls afterwards.
func (s *layerSuite) readIntact(t *testing.T) {
	st := s.fresh(t)
	ctx := context.Background()
	a, b := value(smallValue, 7), value(smallValue, 8)
	mustSet(t, st.top, "a", hitbox.Entry{Value: a})
	got := mustGet(t, st.top, "a")
	mustSet(t, st.top, "b", hitbox.Entry{Value: b})
	mustGet(t, st.top, "b")
	if _, err := hitbox.GetMany(ctx, st.top, []string{"a", "b"}); err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if string(got.Value) != string(a) {
		t.Errorf("a value returned by Get changed to %s after later calls", show(got.Value))
	}
}

func (s *layerSuite) failures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		inject func(f *faulty.Backend, err error)
		call   func(b hitbox.Backend) error
	}{
		{"Get", (*faulty.Backend).FailGet, func(b hitbox.Backend) error { _, err := b.Get(ctx, "k"); return err }},
		{"Set", (*faulty.Backend).FailSet, func(b hitbox.Backend) error { return b.Set(ctx, "k", hitbox.Entry{Value: []byte("w")}) }},
		{"Delete", (*faulty.Backend).FailDelete, func(b hitbox.Backend) error { return b.Delete(ctx, "k") }},
		{"GetMany", (*faulty.Backend).FailGet, func(b hitbox.Backend) error {
			res, err := hitbox.GetMany(ctx, b, []string{"k", "absent"})
			if err != nil {
				return err
			}
			// A batch may fail per key instead; then every key must say so.
			for _, r := range res {
				if !errors.Is(r.Err, errInjected) {
					return fmt.Errorf("a result without the failure: %+v", r)
				}
			}
			return res[0].Err
		}},
		{"SetMany", (*faulty.Backend).FailSet, func(b hitbox.Backend) error {
			return hitbox.SetMany(ctx, b, []hitbox.Item{{Key: "k", Entry: hitbox.Entry{Value: []byte("w")}}, {Key: "j"}})
		}},
		{"DeleteMany", (*faulty.Backend).FailDelete, func(b hitbox.Backend) error {
			return hitbox.DeleteMany(ctx, b, []string{"k", "j"})
		}},
		{"Remove", (*faulty.Backend).FailDelete, func(b hitbox.Backend) error {
			_, err := hitbox.Remove(ctx, b, "k")
			return err
		}},
		{"ClearPrefix", (*faulty.Backend).FailAll, func(b hitbox.Backend) error {
			return hitbox.ClearPrefix(ctx, b, "k")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := s.fresh(t)
			mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v")})
			tc.inject(st.fault, errInjected)
			if err := tc.call(st.top); !errors.Is(err, errInjected) {
				t.Errorf("%s with the store failing: %v, want an error wrapping the store's", tc.name, err)
			}
		})
	}
	t.Run("Clear", func(t *testing.T) {
		t.Parallel()
		st := s.fresh(t)
		st.fault.FailAll(errInjected)
		err := hitbox.Clear(ctx, st.top)
		if refusedClear(st, err) {
			t.Skipf("the layer refuses Clear: %v", err)
		}
		if !errors.Is(err, errInjected) {
			t.Errorf("Clear with the store failing: %v, want an error wrapping the store's", err)
		}
	})
}

// refusedClear reports whether the layer itself refused Clear (or
// ClearPrefix), which it may do when clearing the store would clear more
// than its own keys: the call reached the store neither as a Clear nor as
// a ClearPrefix.
func refusedClear(st stack, err error) bool {
	return errors.Is(err, hitbox.ErrNotSupported) && clears(st) == 0
}

// clears counts the calls that reached the store as a Clear or a
// ClearPrefix: a layer that owns part of the keys (Prefix) clears its part
// with ClearPrefix.
func clears(st stack) int {
	return st.fault.Calls(hitbox.OpClear) + st.fault.Calls(hitbox.OpClearPrefix)
}

type ctxKey struct{}

func (s *layerSuite) contexts(t *testing.T) {
	for name, call := range ctxCalls() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := s.fresh(t)
			mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v")})
			deadline := time.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "marked"), deadline)
			defer cancel()
			before := clears(st)
			err := call(ctx, st.top)
			if (name == "Clear" || name == "ClearPrefix") && clears(st) == before && refusedClear(st, err) {
				t.Skipf("the layer refuses Clear: %v", err)
			}
			seen := st.fault.Seen()
			if err != nil && !isMiss(err) {
				t.Fatalf("%s: %v", name, err)
			}
			if got := seen.Value(ctxKey{}); got != "marked" {
				t.Errorf("%s: the store's context holds %v for the caller's value, want %q", name, got, "marked")
			}
			if dl, ok := seen.Deadline(); !ok || dl.After(deadline) {
				t.Errorf("%s: the store's context has deadline %v (set: %v), want the caller's %v or sooner", name, dl, ok, deadline)
			}
		})
	}
}

// ctxCalls are the operations that take a context, each over key "k".
func ctxCalls() map[string]func(ctx context.Context, b hitbox.Backend) error {
	return map[string]func(ctx context.Context, b hitbox.Backend) error{
		"Get": func(ctx context.Context, b hitbox.Backend) error { _, err := b.Get(ctx, "k"); return err },
		"Set": func(ctx context.Context, b hitbox.Backend) error {
			return b.Set(ctx, "k", hitbox.Entry{Value: []byte("w")})
		},
		"Delete": func(ctx context.Context, b hitbox.Backend) error { return b.Delete(ctx, "k") },
		"GetMany": func(ctx context.Context, b hitbox.Backend) error {
			_, err := hitbox.GetMany(ctx, b, []string{"k", "absent"})
			return err
		},
		"SetMany": func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.SetMany(ctx, b, []hitbox.Item{{Key: "k", Entry: hitbox.Entry{Value: []byte("w")}}})
		},
		"DeleteMany": func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.DeleteMany(ctx, b, []string{"k", "absent"})
		},
		"Remove": func(ctx context.Context, b hitbox.Backend) error {
			_, err := hitbox.Remove(ctx, b, "k")
			return err
		},
		"Clear":       func(ctx context.Context, b hitbox.Backend) error { return hitbox.Clear(ctx, b) },
		"ClearPrefix": func(ctx context.Context, b hitbox.Backend) error { return hitbox.ClearPrefix(ctx, b, "k") },
	}
}

func (s *layerSuite) cancelHeld(t *testing.T) {
	for name, call := range ctxCalls() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := s.fresh(t)
			mustSet(t, st.top, "k", hitbox.Entry{Value: []byte("v")})
			if name == "Clear" || name == "ClearPrefix" {
				if err := call(context.Background(), st.top); refusedClear(st, err) {
					t.Skipf("the layer refuses Clear: %v", err)
				}
			}
			release := st.fault.Block()
			defer release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- call(ctx, st.top) }()

			guard := time.NewTimer(hangBound)
			defer guard.Stop()
			select {
			case <-st.fault.Waiting():
			case err := <-done:
				t.Fatalf("%s returned %v without reaching the store", name, err)
			case <-guard.C:
				t.Fatalf("%s did not reach the store within %v", name, hangBound)
			}
			cancel()
			prompt := time.NewTimer(promptBound)
			defer prompt.Stop()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s cancelled while held in the store: %v, want an error wrapping context.Canceled", name, err)
				}
			case <-prompt.C:
				release() // let the goroutine finish before the test does
				<-done
				t.Fatalf("%s did not return within %v of its context being cancelled", name, promptBound)
			}
		})
	}
}

func (s *layerSuite) concurrent(t *testing.T) {
	concurrently(t, s.fresh(t).top)
}
