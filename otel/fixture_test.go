package otel_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// t0 is the fake now of every test.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// step is how far the layers' fake clock moves at each reading, so every
// call lasts exactly one step.
const step = 3 * time.Millisecond

// steppingClock returns a clock that reads t0, then t0+step, t0+2*step...
func steppingClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)-1) * step) }
}

// The keys a fixture holds, and their values' sizes.
const (
	keyFresh  = "user:fresh@example.com" // "hello", fresh
	keyStale  = "user:stale@example.com" // "old!", past its Stale deadline
	keyAbsent = "user:absent@example.com"
)

// fixture is a map store holding a fresh and a stale entry, under a faulty
// backend that tests tell to fail.
type fixture struct {
	store *mapstore.Store
	fault *faulty.Backend
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s := mapstore.New(mapstore.Options{Now: func() time.Time { return t0 }})
	ctx := context.Background()
	must(t, s.Set(ctx, keyFresh, hitbox.Entry{Value: []byte("hello"), Expire: t0.Add(time.Hour)}))
	must(t, s.Set(ctx, keyStale, hitbox.Entry{Value: []byte("old!"), Stale: t0.Add(-time.Minute), Expire: t0.Add(time.Hour)}))
	return fixture{store: s, fault: faulty.Wrap(s)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// static is a backend that answers every Get with the same entry and does
// nothing else, at no cost: the baseline of the benchmarks.
type static struct{ e hitbox.Entry }

func (s *static) Get(context.Context, string) (hitbox.Entry, error) { return s.e, nil }
func (s *static) Set(context.Context, string, hitbox.Entry) error   { return nil }
func (s *static) Delete(context.Context, string) error              { return nil }
func (s *static) Label() string                                     { return "static" }
