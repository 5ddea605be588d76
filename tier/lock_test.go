package tier_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/lockstore"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/tier"
)

// TestTryLock checks where a tier takes a lock: on its lowest level when
// that one is shared, and nowhere (ErrNotSupported) otherwise.
func TestTryLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newMap := func() *mapstore.Store { return mapstore.New(mapstore.Options{}) }
	l2 := lockstore.New(newMap())
	l3 := lockstore.New(newMap())
	tests := []struct {
		name string
		t    *tier.Tier
		want *lockstore.Store // the level that must take it; nil: ErrNotSupported
	}{
		{"L1 over a shared L2: the lock is L2's", tier.New(newMap(), l2), l2},
		{"with L2 and L3 shared: the lowest, L3", tier.New(newMap(), lockstore.New(newMap()), l3), l3},
		{"a tier of one (local) level has no shared level", tier.New(l2), nil},
		{"levels all local: none shared", tier.NewWith(tier.Options{Local: 2}, newMap(), l2), nil},
		{"a lowest level without locks", tier.New(l2, newMap()), nil},
	}
	for _, tt := range tests {
		var before int
		if tt.want != nil {
			before = len(tt.want.Locked())
		}
		_, err := hitbox.TryLock(ctx, tt.t, "k", time.Second)
		switch {
		case tt.want == nil && !errors.Is(err, hitbox.ErrNotSupported):
			t.Errorf("%s: %v, want ErrNotSupported", tt.name, err)
		case tt.want != nil && (err != nil || len(tt.want.Locked()) != before+1):
			t.Errorf("%s: %v, and the level did not lock", tt.name, err)
		}
		_ = tt.t.Close()
	}
}
