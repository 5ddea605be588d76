package hitbox

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestLocalBus(t *testing.T) {
	t.Parallel()
	bus := NewLocalBus()
	var a, b []Invalidation
	stopA := bus.Subscribe(func(inv Invalidation) { a = append(a, inv) })
	stopB := bus.Subscribe(func(inv Invalidation) { b = append(b, inv) })

	ctx := context.Background()
	if err := bus.Publish(ctx, Invalidation{Origin: "x", Keys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	stopB()
	stopB() // idempotent
	bus.Resume()
	stopA()
	if err := bus.Publish(ctx, Invalidation{Origin: "x", Keys: []string{"late"}}); err != nil {
		t.Fatal(err)
	}

	if len(a) != 2 || a[0].Origin != "x" || !slices.Equal(a[0].Keys, []string{"k"}) || !a[1].All {
		t.Errorf("first subscriber got %+v, want the message then a gap", a)
	}
	if len(b) != 1 {
		t.Errorf("stopped subscriber got %+v, want only the message before stop", b)
	}

	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := bus.Publish(ctx, Invalidation{All: true}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	called := false
	bus.Subscribe(func(Invalidation) { called = true })()
	if called {
		t.Error("a subscription made after Close was called")
	}
}
