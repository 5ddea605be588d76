package faulty_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

func TestInjectedFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		inject func(f *faulty.Backend)
		fails  []string // operations that must fail with errBoom; the rest must not
	}{
		{"FailGet fails Get and GetMany only", func(f *faulty.Backend) { f.FailGet(errBoom) }, []string{"get", "getmany"}},
		{"FailSet fails Set and SetMany only", func(f *faulty.Backend) { f.FailSet(errBoom) }, []string{"set", "setmany"}},
		{"FailDelete fails Delete and DeleteMany only", func(f *faulty.Backend) { f.FailDelete(errBoom) }, []string{"delete", "deletemany"}},
		{"FailAll fails every operation", func(f *faulty.Backend) { f.FailAll(errBoom) },
			[]string{"get", "set", "delete", "getmany", "setmany", "deletemany", "clear", "close"}},
		{"Heal undoes FailAll", func(f *faulty.Backend) { f.FailAll(errBoom); f.Heal() }, nil},
		{"a nil error undoes FailGet", func(f *faulty.Backend) { f.FailGet(errBoom); f.FailGet(nil) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mapstore.New(mapstore.Options{})
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
			f := faulty.Wrap(s)
			tt.inject(f)
			ops := map[string]func() error{
				"get":        func() error { _, err := f.Get(ctx, "k"); return err },
				"set":        func() error { return f.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}) },
				"getmany":    func() error { _, err := f.GetMany(ctx, []string{"k"}); return err },
				"setmany":    func() error { return f.SetMany(ctx, []hitbox.Item{{Key: "k"}}) },
				"delete":     func() error { return f.Delete(ctx, "k") },
				"deletemany": func() error { return f.DeleteMany(ctx, []string{"k"}) },
				"clear":      func() error { return f.Clear(ctx) },
				"close":      func() error { return f.Close() },
			}
			want := map[string]bool{}
			for _, op := range tt.fails {
				want[op] = true
			}
			// In this order, so that a healthy run still finds "k" for get.
			for _, op := range []string{"get", "set", "getmany", "setmany", "delete", "deletemany", "clear", "close"} {
				err := ops[op]()
				if got := errors.Is(err, errBoom); got != want[op] {
					t.Errorf("%s: err = %v, want injected: %v", op, err, want[op])
				}
				var he *hitbox.Error
				if want[op] && (!errors.As(err, &he) || he.Op != op || he.Backend != "map") {
					t.Errorf("%s: err = %#v, want a *hitbox.Error naming the op and backend", op, err)
				}
				if f.Calls(op) != 1 {
					t.Errorf("Calls(%q) = %d, want 1", op, f.Calls(op))
				}
			}
		})
	}
}

func TestBlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a blocked call proceeds once released", func(t *testing.T) {
		t.Parallel()
		f := faulty.Wrap(mapstore.New(mapstore.Options{}))
		release := f.Block()
		done := make(chan error)
		go func() { done <- f.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}) }()
		if op := <-f.Waiting(); op != hitbox.OpSet {
			t.Fatalf("Waiting gave %q", op)
		}
		release()
		release() // harmless twice
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := f.Get(ctx, "k"); err != nil {
			t.Fatalf("after release: %v", err)
		}
	})

	t.Run("a blocked call returns when its deadline passes", func(t *testing.T) {
		t.Parallel()
		f := faulty.Wrap(mapstore.New(mapstore.Options{}))
		release := f.Block()
		defer release()
		dctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		_, err := f.GetMany(dctx, []string{"k"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("close waits for release", func(t *testing.T) {
		t.Parallel()
		f := faulty.Wrap(mapstore.New(mapstore.Options{}))
		release := f.Block()
		done := make(chan error)
		go func() { done <- f.Close() }()
		<-f.Waiting()
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSeenKeepsTheLastContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	f := faulty.Wrap(mapstore.New(mapstore.Options{}))
	if f.Seen() != nil {
		t.Fatal("Seen before any call is not nil")
	}
	ctx := context.WithValue(context.Background(), key{}, "v")
	_ = f.Delete(ctx, "k")
	_ = f.Close() // takes no context, so it leaves Seen alone
	if got := f.Seen().Value(key{}); got != "v" {
		t.Fatalf("Seen().Value = %v", got)
	}
}

func TestForwardsAbilitiesToABasicBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mapstore.New(mapstore.Options{})
	f := faulty.Wrap(s.Basic())
	if f.Unwrap() == nil || f.Label() != "map" {
		t.Fatalf("Unwrap = %v, Label = %q", f.Unwrap(), f.Label())
	}
	if err := hitbox.SetMany(ctx, f, []hitbox.Item{{Key: "a"}, {Key: "b"}}); err != nil {
		t.Fatal(err)
	}
	res, err := hitbox.GetMany(ctx, f, []string{"a", "x"})
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, hitbox.ErrMiss) {
		t.Fatalf("GetMany = %+v, %v", res, err)
	}
	if err := hitbox.DeleteMany(ctx, f, []string{"a"}); err != nil || s.Len() != 1 {
		t.Fatalf("DeleteMany = %v, Len = %d", err, s.Len())
	}
	if err := hitbox.Clear(ctx, f); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("Clear over a basic backend = %v", err)
	}
}
