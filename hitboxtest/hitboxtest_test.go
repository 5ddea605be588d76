package hitboxtest_test

import (
	"context"
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

// RealTime mode, as a server-backed store runs it, on a store whose clock
// is the wall clock; it waits out lifetimes of tens of milliseconds.
func TestMapstoreOnTheWallClockConforms(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for real expiry")
	}
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		return mapstore.New(mapstore.Options{})
	}, hitboxtest.Options{RealTime: true})
}

// The MaxValueSize checks, on a store that refuses values over 100 bytes.
func TestStoreWithASizeLimitConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		return limited{mapstore.New(mapstore.Options{Now: clock.Now}), 100}
	}, hitboxtest.Options{MaxValueSize: 100})
}

type limited struct {
	*mapstore.Store
	n int
}

func (l limited) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if len(e.Value) > l.n {
		return &hitbox.Error{Op: "set", Backend: l.Label(), Err: &hitbox.SizeError{Size: len(e.Value), Limit: l.n}}
	}
	return l.Store.Set(ctx, key, e)
}

func (l limited) SetMany(ctx context.Context, items []hitbox.Item) error {
	for _, it := range items {
		if len(it.Entry.Value) > l.n {
			return &hitbox.Error{Op: "setmany", Backend: l.Label(), Err: &hitbox.SizeError{Size: len(it.Entry.Value), Limit: l.n}}
		}
	}
	return l.Store.SetMany(ctx, items)
}

func TestIdentityLayerConforms(t *testing.T) {
	t.Parallel()
	hitboxtest.TestLayer(t, func(b hitbox.Backend) hitbox.Backend { return b }, hitboxtest.Options{})
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
