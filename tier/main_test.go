package tier

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a fake clock the tests move by hand.
type clock = hitboxtest.Clock

func newClock() *clock { return hitboxtest.NewClock(t0) }

// store returns a mapstore labelled label on clock c.
func store(c *clock, label string) *mapstore.Store {
	return mapstore.New(mapstore.Options{Label: label, Now: c.Now})
}

// hooked calls a test's hooks around a backend's calls, so a test can stop
// an operation at an exact point: before Set reaches the store, or after Get
// has read from it.
type hooked struct {
	hitbox.Backend
	beforeSet    func(ctx context.Context, key string)
	afterGet     func(ctx context.Context, key string)
	beforeDelete func(ctx context.Context, key string)
}

func (h *hooked) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, err := h.Backend.Get(ctx, key)
	if h.afterGet != nil {
		h.afterGet(ctx, key)
	}
	return e, err
}

func (h *hooked) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if h.beforeSet != nil {
		h.beforeSet(ctx, key)
	}
	return h.Backend.Set(ctx, key, e)
}

func (h *hooked) Delete(ctx context.Context, key string) error {
	if h.beforeDelete != nil {
		h.beforeDelete(ctx, key)
	}
	return h.Backend.Delete(ctx, key)
}

func (h *hooked) Clear(ctx context.Context) error { return hitbox.Clear(ctx, h.Backend) }

// gate holds the calls that reach wait until open is called, and tells the
// test, through reached, that one has arrived.
type gate struct {
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{reached: make(chan struct{}, 64), release: make(chan struct{})}
}

// wait holds the caller until open, or until ctx is done.
func (g *gate) wait(ctx context.Context) {
	g.reached <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func entry(v string, expire time.Time) hitbox.Entry {
	return hitbox.Entry{Value: []byte(v), Expire: expire}
}

// closeT closes tr at the end of the test.
func closeT(t *testing.T, tr *Tier) {
	t.Helper()
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}
