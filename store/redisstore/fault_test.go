package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// opDeadline is the context deadline each operation gets while the server
// is down. It only bounds a test that would otherwise hang: the assertion
// is that the operation reports the outage, which it must do before this.
const opDeadline = 30 * time.Second

// storeOps runs every operation of s once, each under its own context from
// mk, and returns the errors by the operation name the store reports.
func storeOps(s *redisstore.Store, mk func() (context.Context, context.CancelFunc)) map[string]error {
	v := hitbox.Entry{Value: []byte("v")}
	ops := map[string]func(context.Context) error{
		hitbox.OpGet:     func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		hitbox.OpSet:     func(ctx context.Context) error { return s.Set(ctx, "k", v) },
		hitbox.OpDelete:  func(ctx context.Context) error { return s.Delete(ctx, "k") },
		hitbox.OpGetMany: func(ctx context.Context) error { _, err := s.GetMany(ctx, []string{"a", "b"}); return err },
		hitbox.OpSetMany: func(ctx context.Context) error {
			return s.SetMany(ctx, []hitbox.Item{{Key: "a", Entry: v}, {Key: "b", Entry: v}})
		},
		hitbox.OpDeleteMany: func(ctx context.Context) error { return s.DeleteMany(ctx, []string{"a", "b"}) },
		hitbox.OpClear:      func(ctx context.Context) error { return s.Clear(ctx) },
	}
	// All at once, as a busy service would, which also keeps the test short:
	// each operation spends a while on go-redis's dial retries.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = map[string]error{}
	)
	for name, op := range ops {
		wg.Go(func() {
			ctx, cancel := mk()
			defer cancel()
			err := op(ctx)
			if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = errors.Join(err, errors.New("returned after its deadline"))
			}
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

// TestServerKilled kills the server under a working store: every operation
// reports the outage (ErrUnavailable, not a miss, not a timeout) before its
// deadline, nothing panics, and once the server is back on the same port
// the same store works again.
func TestServerKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	s, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: "p:", Label: "l2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("before")}); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	errs := storeOps(s, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, opDeadline) })
	for op, err := range errs {
		var he *hitbox.Error
		switch {
		case !errors.Is(err, hitbox.ErrUnavailable):
			t.Errorf("%s on a killed server: %v, want ErrUnavailable", op, err)
		case errors.Is(err, hitbox.ErrMiss), errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s on a killed server: %v is also a miss or a timeout", op, err)
		case !errors.As(err, &he) || he.Op != op || he.Backend != "l2":
			t.Errorf("%s on a killed server: %v does not name the operation and label", op, err)
		}
	}

	srv.Restart(t)
	// go-redis refuses to dial for a moment after repeated dial failures
	// and probes the server in the background; the same store must come
	// back by itself, without being rebuilt.
	waitUntil(t, func() error { return s.Set(ctx, "k", hitbox.Entry{Value: []byte("after")}) })
	for op, err := range storeOps(s, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, opDeadline) }) {
		if err != nil && !errors.Is(err, hitbox.ErrMiss) {
			t.Errorf("%s after the restart: %v", op, err)
		}
	}
}

// waitUntil retries op until it succeeds, failing t after a bound that is
// generous for a reconnect. It paces the retries; it never measures them.
func waitUntil(t *testing.T, op func() error) {
	t.Helper()
	const bound = 30 * time.Second
	deadline := time.Now().Add(bound)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := op()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v: %v", bound, err)
		}
		<-tick.C
	}
}

// TestServerHung freezes the server: an operation under a context deadline
// returns with that deadline's error (the caller gave up; no claim that the
// server is down), one without a deadline ends at the client's read
// timeout with ErrUnavailable, and after the server resumes the store
// works again.
func TestServerHung(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)

	opts := srv.Options()
	opts.ReadTimeout = 200 * time.Millisecond
	opts.MaxRetries = -1 // one try: a read timeout is the answer
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: "p:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}

	srv.Pause()
	t.Cleanup(srv.Resume)

	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = s.Get(tctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, hitbox.ErrUnavailable) {
		t.Errorf("Get under a deadline: %v, want context.DeadlineExceeded alone", err)
	}

	_, err = s.Get(ctx, "k")
	if !errors.Is(err, hitbox.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get at the read timeout: %v, want ErrUnavailable", err)
	}

	srv.Resume()
	waitUntil(t, func() error { _, err := s.Get(ctx, "k"); return err })
}
