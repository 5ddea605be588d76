package layer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/lockstore"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// TestLayersForwardLocks checks that every layer passes the lock ability
// down to the store, Prefix with its namespace, and that a store without
// it is reported as such through them.
func TestLayersForwardLocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		layer hitbox.Layer
		key   string // the key the store is asked to lock
	}{
		{"Compress forwards the lock as it is", layer.Compress(codec.Zstd()), "k"},
		{"Encode forwards it", layer.Encode(), "k"},
		{"MaxSize forwards it", layer.MaxSize(1 << 10), "k"},
		{"Timeout forwards it, bounded", layer.Timeout(time.Second), "k"},
		{"Prefix locks the key in its namespace", layer.Prefix("ns:"), "ns:k"},
	}
	for _, tt := range tests {
		store := lockstore.New(mapstore.New(mapstore.Options{}))
		b := tt.layer(store)
		l, err := hitbox.TryLock(ctx, b, "k", time.Second)
		if err != nil || l == nil || len(store.Locked()) != 1 || store.Locked()[0] != tt.key {
			t.Errorf("%s: TryLock = %v, %v; the store locked %q, want %q", tt.name, l, err, store.Locked(), tt.key)
		}
		if _, err := hitbox.TryLock(ctx, tt.layer(newRawStore()), "k", time.Second); !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("%s over a store without locks: %v, want ErrNotSupported", tt.name, err)
		}
	}
}
