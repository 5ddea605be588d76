package otel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/lockstore"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// TestLayersForwardLocks checks that both layers pass the lock ability to
// the backend below, and report a backend without it as such.
func TestLayersForwardLocks(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]hitbox.Layer{"Metrics": hitboxotel.Metrics(), "Trace": hitboxotel.Trace()} {
		store := lockstore.New(mapstore.New(mapstore.Options{}))
		if _, err := hitbox.TryLock(context.Background(), l(store), "k", time.Second); err != nil || len(store.Locked()) != 1 {
			t.Errorf("%s: TryLock = %v, the store locked %q", name, err, store.Locked())
		}
		if _, err := hitbox.TryLock(context.Background(), l(mapstore.New(mapstore.Options{})), "k", time.Second); !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("%s over a store without locks: %v, want ErrNotSupported", name, err)
		}
	}
}
