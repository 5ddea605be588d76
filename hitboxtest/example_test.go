package hitboxtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// This is how a store runs the suite from its own tests: a fresh, empty
// store per call, on the suite's clock, closed when the subtest ends. The
// package doc shows it.
func TestStoreConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		s, err := memstore.New(memstore.Options{Now: clock.Now, MaxValueSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, hitboxtest.Options{MaxValueSize: 64 << 10})
}

// This is how a layer runs the suite. The package doc shows it.
func TestLayerConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestLayer(t, layer.Compress(codec.Zstd()), hitboxtest.Options{})
}

func ExampleClock() {
	clock := hitboxtest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	fmt.Println(clock.Now().Format(time.Kitchen))

	clock.Advance(90 * time.Minute)
	fmt.Println(clock.Now().Format(time.Kitchen), store.Len())
	// Output:
	// 12:00PM
	// 1:30PM 0
}
