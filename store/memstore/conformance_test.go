package memstore_test

import (
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// TestConformance runs the Backend contract every store keeps.
func TestConformance(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10 // the default for the default MaxBytes and Shards
	hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		s, err := memstore.New(memstore.Options{Now: clock.Now, MaxValueSize: limit})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, hitboxtest.Options{MaxValueSize: limit, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		t.Skip("a memstore is alone in its storage: no other backend shares its keys or tags")
		return nil
	}})
}
