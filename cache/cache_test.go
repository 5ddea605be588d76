package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// fakeClock is a clock tests move by hand.
type fakeClock = hitboxtest.Clock

func newFakeClock() *fakeClock {
	return hitboxtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// notifying is a backend that tells a test each time a Set lands.
type notifying struct {
	hitbox.Backend
	sets chan string
}

func (n notifying) Set(ctx context.Context, key string, e hitbox.Entry) error {
	err := n.Backend.Set(ctx, key, e)
	n.sets <- key
	return err
}

// failing is a backend whose reads fail as an outage would.
type failing struct{ hitbox.Backend }

var errOutage = errors.New("outage")

func (failing) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, &hitbox.Error{Op: "get", Backend: "failing", Err: errOutage}
}

func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})

	users := cache.New[User](store, cache.Options{})
	if _, err := users.Get(ctx, "u"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get of an absent key: %v, want ErrMiss", err)
	}
	if err := users.Set(ctx, "u", User{ID: 1, Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if u, err := users.Get(ctx, "u"); err != nil || u != (User{ID: 1, Name: "Ada"}) {
		t.Fatalf("Get = %+v, %v", u, err)
	}
	if err := users.Delete(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Get(ctx, "u"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get after Delete: %v, want ErrMiss", err)
	}

	// []byte and string are stored as they are, and what Get returns for
	// []byte is the caller's own copy.
	raw := cache.New[[]byte](store, cache.Options{})
	in := []byte("bytes")
	if err := raw.Set(ctx, "b", in); err != nil {
		t.Fatal(err)
	}
	if e, _ := store.Get(ctx, "b"); string(e.Value) != "bytes" {
		t.Fatalf("[]byte stored as %q, want it as it is", e.Value)
	}
	out, _ := raw.Get(ctx, "b")
	out[0] = 'X'
	if again, _ := raw.Get(ctx, "b"); string(again) != "bytes" {
		t.Fatalf("changing a returned []byte changed the cache: %q", again)
	}
	strs := cache.New[string](store, cache.Options{})
	if err := strs.Set(ctx, "s", "text"); err != nil {
		t.Fatal(err)
	}
	if s, err := strs.Get(ctx, "s"); s != "text" || err != nil {
		t.Fatalf("string Get = %q, %v", s, err)
	}
}

func TestCacheFormats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, f := range []codec.Format{codec.JSON(), codec.CBOR(), codec.Gob(), codec.MsgPack()} {
		t.Run(f.Name(), func(t *testing.T) {
			t.Parallel()
			c := cache.New[User](mapstore.New(mapstore.Options{}), cache.Options{Format: f})
			if err := c.Set(ctx, "u", User{ID: 7, Name: "Grace"}); err != nil {
				t.Fatal(err)
			}
			if u, err := c.Get(ctx, "u"); err != nil || u.Name != "Grace" {
				t.Fatalf("Get = %+v, %v", u, err)
			}
		})
	}
}

func TestCacheLifetimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	c := cache.New[string](store, cache.Options{TTL: time.Minute, StaleFor: 30 * time.Second, Now: clock.Now})

	if err := c.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	e, _ := store.Get(ctx, "k")
	start := clock.Now()
	if !e.Stale.Equal(start.Add(time.Minute)) || !e.Expire.Equal(start.Add(90*time.Second)) {
		t.Fatalf("deadlines stale=%v expire=%v, want TTL then TTL+StaleFor", e.Stale, e.Expire)
	}
	tests := []struct {
		name    string
		advance time.Duration
		want    hitbox.State
		wantErr error
	}{
		{"before the TTL the value is fresh", 59 * time.Second, hitbox.Fresh, nil},
		{"after the TTL it is stale", 30 * time.Second, hitbox.Stale, nil},
		{"after the stale window it is gone", 30 * time.Second, hitbox.Expired, hitbox.ErrMiss},
	}
	for _, tt := range tests {
		clock.Advance(tt.advance)
		_, st, err := c.Lookup(ctx, "k")
		if st != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: got %v, %v; want %v, %v", tt.name, st, err, tt.want, tt.wantErr)
		}
	}

	// Without a stale window there is no soft deadline.
	plain := cache.New[string](store, cache.Options{TTL: time.Minute, Now: clock.Now})
	_ = plain.Set(ctx, "p", "v")
	if e, _ := store.Get(ctx, "p"); !e.Stale.IsZero() || !e.Expire.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("deadlines stale=%v expire=%v, want none and TTL", e.Stale, e.Expire)
	}
}

func TestCacheCorruptIsAMiss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	_ = store.Set(ctx, "u", hitbox.Entry{Value: []byte("{not json")})

	users := cache.New[User](store, cache.Options{})
	_, err := users.Get(ctx, "u")
	if !errors.Is(err, hitbox.ErrMiss) || !errors.Is(err, hitbox.ErrCorrupt) {
		t.Fatalf("Get of undecodable bytes: %v, want ErrMiss and ErrCorrupt", err)
	}
	if _, err := store.Get(ctx, "u"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("undecodable bytes were left in the store: %v", err)
	}
	// GetOrLoad then loads a fresh value.
	u, err := users.GetOrLoad(ctx, "u", func(context.Context) (User, error) { return User{ID: 3}, nil })
	if err != nil || u.ID != 3 {
		t.Fatalf("GetOrLoad after corruption = %+v, %v", u, err)
	}
}

func TestGetOrLoadOneLoadPerKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()

	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) {
		loads.Add(1)
		<-release
		return 42, nil
	}
	const callers = 50
	var wg sync.WaitGroup
	results := make(chan int, callers)
	started := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			started <- struct{}{}
			v, err := c.GetOrLoad(ctx, "k", load)
			if err != nil {
				t.Error(err)
			}
			results <- v
		})
	}
	for range callers {
		<-started
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 42 {
			t.Fatalf("a caller got %d", v)
		}
	}
	// Callers that arrived after the shared load finished read the stored
	// value; none loads again.
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for one key, want 1", n)
	}
}

func TestGetOrLoadCallerCancelDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	load := func(ctx context.Context) (int, error) {
		close(entered)
		select {
		case <-release:
			return 7, ctx.Err()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	first, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.GetOrLoad(first, "k", load); errc <- err }()
	<-entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", err)
	}
	close(release)
	if v, err := c.GetOrLoad(context.Background(), "k", load); v != 7 || err != nil {
		t.Fatalf("second caller = %d, %v; want the shared load's 7", v, err)
	}
}

func TestGetOrLoadStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	errSource := errors.New("source down")
	tests := []struct {
		name      string
		sync      bool
		loadErr   error
		want      string
		refreshed bool
	}{
		{"a stale hit is served at once and refreshed behind", false, nil, "old", true},
		{"a failed background refresh keeps the stale value", false, errSource, "old", false},
		{"with SyncRevalidate a stale hit waits for the new value", true, nil, "new", true},
		{"with SyncRevalidate a failed load serves the stale value", true, errSource, "old", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			sets := make(chan string, 4)
			store := notifying{mapstore.New(mapstore.Options{Now: clock.Now}), sets}
			c := cache.New[string](store, cache.Options{TTL: time.Minute, StaleFor: time.Hour, SyncRevalidate: tt.sync, Now: clock.Now})
			_ = c.Set(ctx, "k", "old")
			<-sets
			clock.Advance(2 * time.Minute)

			loaded := make(chan struct{})
			got, err := c.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
				defer close(loaded)
				return "new", tt.loadErr
			})
			if err != nil || got != tt.want {
				t.Fatalf("GetOrLoad = %q, %v; want %q", got, err, tt.want)
			}
			<-loaded
			if tt.refreshed {
				<-sets
			}
			c.Close() // waits for the background refresh, if any
			v, st, _ := c.Lookup(ctx, "k")
			wantV, wantSt := "old", hitbox.Stale
			if tt.refreshed {
				wantV, wantSt = "new", hitbox.Fresh
			}
			if v != wantV || st != wantSt {
				t.Fatalf("after the refresh the cache holds %q (%v), want %q (%v)", v, st, wantV, wantSt)
			}
		})
	}
}

func TestGetOrLoadOutageFallsBackToSource(t *testing.T) {
	t.Parallel()
	c := cache.New[int](failing{mapstore.New(mapstore.Options{})}, cache.Options{})
	defer c.Close()
	v, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (int, error) { return 5, nil })
	if err != nil || v != 5 {
		t.Fatalf("GetOrLoad over a failing backend = %d, %v; want the source's 5", v, err)
	}
	if _, err := c.Get(context.Background(), "k"); !errors.Is(err, errOutage) {
		t.Fatalf("Get over a failing backend: %v, want the outage", err)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCacheCloseStopsLoads(t *testing.T) {
	t.Parallel()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{})
	entered := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(context.Background(), "k", func(ctx context.Context) (int, error) {
			close(entered)
			<-ctx.Done() // Close cancels the load
			return 0, ctx.Err()
		})
		errc <- err
	}()
	<-entered
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("load cut by Close: %v, want context.Canceled", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, hitbox.ErrClosed) {
		t.Fatalf("GetOrLoad after Close: %v, want ErrClosed", err)
	}
}
