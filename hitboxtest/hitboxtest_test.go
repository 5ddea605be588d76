package hitboxtest_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMapstoreWithoutBatchAbilitiesConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		return mapstore.New(mapstore.Options{Now: clock.Now}).Basic()
	}, hitboxtest.Options{})
}

func TestIdentityLayerConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestLayer(t, func(b hitbox.Backend) hitbox.Backend { return b })
}

func TestClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := hitboxtest.NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v, want the start %v", c.Now(), t0)
	}
	c.Advance(time.Minute)
	c.Advance(time.Nanosecond)
	if want := t0.Add(time.Minute + time.Nanosecond); !c.Now().Equal(want) {
		t.Fatalf("Now = %v after advancing, want %v", c.Now(), want)
	}
}
