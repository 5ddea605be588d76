package otel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// lockStore is a store with the lock ability that records the keys it
// locked.
type lockStore struct {
	*mapstore.Store
	locked []string
}

func (s *lockStore) TryLock(_ context.Context, key string, _ time.Duration) (hitbox.Lock, error) {
	s.locked = append(s.locked, key)
	return nil, nil
}

// TestLayersForwardLocks checks that both layers pass the lock ability to
// the backend below, and report a backend without it as such.
func TestLayersForwardLocks(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]hitbox.Layer{"Metrics": hitboxotel.Metrics(), "Trace": hitboxotel.Trace()} {
		store := &lockStore{Store: mapstore.New(mapstore.Options{})}
		if _, err := hitbox.TryLock(context.Background(), l(store), "k", time.Second); err != nil || len(store.locked) != 1 {
			t.Errorf("%s: TryLock = %v, the store locked %q", name, err, store.locked)
		}
		if _, err := hitbox.TryLock(context.Background(), l(mapstore.New(mapstore.Options{})), "k", time.Second); !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("%s over a store without locks: %v, want ErrNotSupported", name, err)
		}
	}
}
