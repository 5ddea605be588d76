package hitboxtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// This is how a store runs the suite from its own tests: a fresh, empty
// store per call, on the suite's clock, closed when the subtest ends.
func TestMapstoreConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		s := mapstore.New(mapstore.Options{Now: clock.Now})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, hitboxtest.Options{})
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
