package hitboxtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// Real-time expiry: lifetimes short enough to keep the suite quick, and a
// bound on how long a store may take to drop an entry after its Expire.
const (
	realLifetime = 50 * time.Millisecond
	realPoll     = 5 * time.Millisecond
	realBound    = 5 * time.Second
)

// TestBackend runs the Backend contract against fresh, empty backends from
// newBackend (register cleanup with t.Cleanup). Backends that take a Now
// func should use clock.Now.
//
// Each subtest calls newBackend for a backend of its own, with a clock of
// its own, and most run in parallel, so newBackend must give backends that
// do not see each other's keys (a distinct key prefix or database each, for
// a server).
func TestBackend(t *testing.T, newBackend func(t *testing.T, clock *Clock) hitbox.Backend, opts Options) {
	t.Helper()
	s := &backendSuite{newBackend: newBackend, opts: opts}
	if opts.RealTime {
		s.tol = time.Millisecond
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"the label is not empty", s.label},
		{"an absent key is a miss", s.absentMiss},
		{"a deleted key is a miss", s.deletedMiss},
		{"an expired key is a miss", s.expiredMiss},
		{"values of every size round-trip", s.sizes},
		{"deadlines round-trip", s.deadlines},
		{"an entry whose Expire has passed is not stored", s.expiredNotStored},
		{"a second Set replaces the first", s.overwrite},
		{"deleting an absent key is not an error", s.deleteAbsent},
		{"an empty key is refused by every operation", s.emptyKey},
		{"the stored value does not alias the caller's slice", s.noAlias},
		{"a cancelled context fails every operation", s.cancelled},
		{"an expired deadline fails every operation", s.deadlineExceeded},
		{"batch reads answer like single reads", s.batchGet},
		{"batch writes store like single writes", s.batchSet},
		{"batch deletes remove like single deletes", s.batchDelete},
		{"empty batches do nothing", s.emptyBatches},
		{"values over MaxValueSize are refused", s.maxSize},
		{"a value Set accepts, Get returns", s.accepted},
		{"Clear leaves the backend empty", s.clear},
		{"ClearPrefix removes exactly the keys under the prefix", s.clearPrefix},
		{"Clear and ClearPrefix stay inside the backend's namespace", s.namespace},
		{"Remove says whether it removed", s.remove},
		{"Close is idempotent and later operations fail with ErrClosed", s.close},
		{"concurrent sets and gets of many keys are safe", s.concurrent},
		{"tags", s.tags},
		{"leases", s.leases},
		{"stamps move with every change and no read", s.stamps},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

type backendSuite struct {
	newBackend func(t *testing.T, clock *Clock) hitbox.Backend
	opts       Options
	tol        time.Duration // deadline precision: 0 on the fake clock
}

// fresh returns a new backend and its clock, which starts at the fixed
// start on the fake clock and at the wall clock's now otherwise.
func (s *backendSuite) fresh(t *testing.T) (hitbox.Backend, *Clock) {
	t.Helper()
	c := NewClock(start)
	if s.opts.RealTime {
		c = NewClock(time.Now())
	}
	b := s.newBackend(t, c)
	if b == nil {
		t.Fatal("newBackend returned nil")
	}
	return b, c
}

// now is the time deadlines are set from: the fake clock, or the wall clock
// for a backend that keeps its own.
func (s *backendSuite) now(c *Clock) time.Time {
	if s.opts.RealTime {
		return time.Now()
	}
	return c.Now()
}

func (s *backendSuite) fits(n int) bool { return s.opts.MaxValueSize <= 0 || n <= s.opts.MaxValueSize }

// upTo returns n, or the store's limit when that is smaller.
func (s *backendSuite) upTo(n int) int {
	if !s.fits(n) {
		return s.opts.MaxValueSize
	}
	return n
}

func (s *backendSuite) label(t *testing.T) {
	b, _ := s.fresh(t)
	if b.Label() == "" {
		t.Error("Label() is empty")
	}
}

func (s *backendSuite) absentMiss(t *testing.T) {
	b, _ := s.fresh(t)
	wantMiss(t, b, "absent")
}

func (s *backendSuite) deletedMiss(t *testing.T) {
	b, _ := s.fresh(t)
	ctx := context.Background()
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("v")})
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMiss(t, b, "k")
}

func (s *backendSuite) expiredMiss(t *testing.T) {
	b, c := s.fresh(t)
	if s.opts.RealTime {
		expire := time.Now().Add(realLifetime)
		mustSet(t, b, "k", hitbox.Entry{Value: []byte("v"), Expire: expire})
		_, err := b.Get(context.Background(), "k")
		// A miss is wrong only if the whole call ended before Expire.
		if isMiss(err) && time.Now().Before(expire.Add(-s.tol)) {
			t.Errorf("Get before Expire: %v, want the entry", err)
		} else if err != nil && !isMiss(err) {
			t.Fatalf("Get: %v", err)
		}
		waitMiss(t, b, "k", expire)
		return
	}
	expire := c.Now().Add(time.Minute)
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("v"), Expire: expire})
	c.Advance(time.Minute - time.Nanosecond)
	if _, err := b.Get(context.Background(), "k"); err != nil {
		t.Fatalf("Get one nanosecond before Expire: %v, want the entry", err)
	}
	c.Advance(time.Nanosecond)
	wantMiss(t, b, "k")
	res, err := hitbox.GetMany(context.Background(), b, []string{"k"})
	if err != nil || len(res) != 1 || !isMiss(res[0].Err) {
		t.Errorf("GetMany at Expire = %v, %v; want one miss", res, err)
	}
}

// waitMiss polls key until it misses, failing if that takes more than
// realBound past expire.
func waitMiss(t *testing.T, b hitbox.Backend, key string, expire time.Time) {
	t.Helper()
	tick := time.NewTicker(realPoll)
	defer tick.Stop()
	limit := expire.Add(realBound)
	for {
		_, err := b.Get(context.Background(), key)
		if isMiss(err) {
			return
		}
		if err != nil {
			t.Fatalf("Get while waiting for expiry: %v", err)
		}
		if time.Now().After(limit) {
			t.Fatalf("key %q still served %v after its Expire", key, realBound)
		}
		<-tick.C
	}
}

func (s *backendSuite) sizes(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			t.Parallel()
			if !s.fits(len(sz.v)) {
				t.Skipf("over MaxValueSize %d", s.opts.MaxValueSize)
			}
			b, _ := s.fresh(t)
			want := hitbox.Entry{Value: sz.v}
			mustSet(t, b, "k", want)
			got := mustGet(t, b, "k")
			if d := diffEntry(got, want, s.tol, s.opts.DropsStale); d != "" {
				t.Errorf("Get after Set:%s", d)
			}
		})
	}
}

func (s *backendSuite) deadlines(t *testing.T) {
	for _, tc := range []struct {
		name          string
		expire, stale time.Duration // from now; 0 for none
	}{
		{"no deadlines come back as zero", 0, 0},
		{"an Expire alone comes back", time.Hour, 0},
		{"an Expire and a Stale come back", time.Hour, 30 * time.Minute},
		{"a Stale already passed is still served", time.Hour, -time.Minute},
		{"a Stale without an Expire comes back", 0, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, c := s.fresh(t)
			now := s.now(c)
			want := hitbox.Entry{Value: []byte("v")}
			if tc.expire != 0 {
				want.Expire = now.Add(tc.expire)
			}
			if tc.stale != 0 {
				want.Stale = now.Add(tc.stale)
			}
			mustSet(t, b, "k", want)
			got := mustGet(t, b, "k")
			if d := diffEntry(got, want, s.tol, s.opts.DropsStale); d != "" {
				t.Errorf("Get after Set:%s", d)
			}
		})
	}
}

func (s *backendSuite) expiredNotStored(t *testing.T) {
	ctx := context.Background()
	t.Run("on a new key", func(t *testing.T) {
		t.Parallel()
		b, c := s.fresh(t)
		if err := b.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: s.now(c).Add(-time.Second)}); err != nil {
			t.Fatalf("Set of an expired entry: %v, want nil", err)
		}
		wantMiss(t, b, "k")
	})
	t.Run("over a live entry, which it replaces", func(t *testing.T) {
		t.Parallel()
		b, c := s.fresh(t)
		mustSet(t, b, "k", hitbox.Entry{Value: []byte("old")})
		if err := b.Set(ctx, "k", hitbox.Entry{Value: []byte("new"), Expire: s.now(c).Add(-time.Second)}); err != nil {
			t.Fatalf("Set of an expired entry: %v, want nil", err)
		}
		wantMiss(t, b, "k")
	})
	if !s.opts.RealTime {
		t.Run("when Expire is exactly now", func(t *testing.T) {
			t.Parallel()
			b, c := s.fresh(t)
			mustSet(t, b, "k", hitbox.Entry{Value: []byte("v"), Expire: c.Now()})
			wantMiss(t, b, "k")
		})
	}
}

func (s *backendSuite) overwrite(t *testing.T) {
	b, c := s.fresh(t)
	now := s.now(c)
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("first, and longer"), Expire: now.Add(time.Hour), Stale: now.Add(time.Minute)})
	want := hitbox.Entry{Value: []byte("second")}
	mustSet(t, b, "k", want)
	if d := diffEntry(mustGet(t, b, "k"), want, s.tol, s.opts.DropsStale); d != "" {
		t.Errorf("Get after the second Set:%s", d)
	}
}

func (s *backendSuite) deleteAbsent(t *testing.T) {
	b, _ := s.fresh(t)
	if err := b.Delete(context.Background(), "absent"); err != nil {
		t.Errorf("Delete of an absent key: %v, want nil", err)
	}
	if err := hitbox.DeleteMany(context.Background(), b, []string{"absent", "other"}); err != nil {
		t.Errorf("DeleteMany of absent keys: %v, want nil", err)
	}
}

func (s *backendSuite) emptyKey(t *testing.T) {
	b, _ := s.fresh(t)
	for _, path := range paths(b) {
		for op, err := range everyOp(path.b, "", hitbox.Entry{Value: []byte("v")}) {
			if !errors.Is(err, hitbox.ErrInvalidKey) {
				t.Errorf("%s %s with an empty key: %v, want ErrInvalidKey", path.name, op, err)
			}
		}
	}
}

func (s *backendSuite) noAlias(t *testing.T) {
	b, _ := s.fresh(t)
	v := []byte("original")
	mustSet(t, b, "k", hitbox.Entry{Value: v})
	copy(v, "mutated!")
	if got := mustGet(t, b, "k"); string(got.Value) != "original" {
		t.Errorf("after Set, changing the caller's slice changed the stored value to %q", got.Value)
	}
	w := []byte("batched")
	if err := hitbox.SetMany(context.Background(), b, []hitbox.Item{{Key: "m", Entry: hitbox.Entry{Value: w}}}); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	copy(w, "changed")
	if got := mustGet(t, b, "m"); string(got.Value) != "batched" {
		t.Errorf("after SetMany, changing the caller's slice changed the stored value to %q", got.Value)
	}
}

func (s *backendSuite) cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.doneCtx(t, ctx, context.Canceled)
}

func (s *backendSuite) deadlineExceeded(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	s.doneCtx(t, ctx, context.DeadlineExceeded)
}

// doneCtx checks that every operation, native and through the fallback
// loops, fails with an error wrapping want under a ctx that is already
// done. The Backend contract asks every method to honour ctx, so even a
// store that does no I/O must look.
func (s *backendSuite) doneCtx(t *testing.T, ctx context.Context, want error) {
	b, _ := s.fresh(t)
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("v")})
	for _, path := range paths(b) {
		for op, err := range everyOpCtx(ctx, path.b, "k", hitbox.Entry{Value: []byte("w")}) {
			if !errors.Is(err, want) {
				t.Errorf("%s %s under a done context: %v, want an error wrapping %v", path.name, op, err, want)
			}
		}
	}
	if _, ok := b.(hitbox.Clearer); ok {
		if err := hitbox.Clear(ctx, b); !errors.Is(err, want) && !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("Clear under a done context: %v, want an error wrapping %v", err, want)
		}
	}
	if _, ok := b.(hitbox.PrefixClearer); ok {
		if err := hitbox.ClearPrefix(ctx, b, "k"); !errors.Is(err, want) && !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("ClearPrefix under a done context: %v, want an error wrapping %v", err, want)
		}
	}
}

func (s *backendSuite) maxSize(t *testing.T) {
	limit := s.opts.MaxValueSize
	if limit <= 0 {
		t.Skip("Options.MaxValueSize is not set")
	}
	b, _ := s.fresh(t)
	ctx := context.Background()
	want := hitbox.Entry{Value: value(limit, 5)}
	mustSet(t, b, "fits", want)
	if d := diffEntry(mustGet(t, b, "fits"), want, s.tol, s.opts.DropsStale); d != "" {
		t.Errorf("a value of exactly MaxValueSize:%s", d)
	}
	over := hitbox.Entry{Value: value(limit+1, 6)}
	checkTooLarge := func(what string, err error) {
		t.Helper()
		var se *hitbox.SizeError
		switch {
		case !errors.Is(err, hitbox.ErrTooLarge):
			t.Errorf("%s of MaxValueSize+1 bytes: %v, want ErrTooLarge", what, err)
		case !errors.As(err, &se) || se.Limit != limit || se.Size != limit+1:
			t.Errorf("%s of MaxValueSize+1 bytes: %v, want a *hitbox.SizeError{Size: %d, Limit: %d}", what, err, limit+1, limit)
		}
	}
	checkTooLarge("Set", b.Set(ctx, "over", over))
	wantMiss(t, b, "over")
	for _, path := range paths(b) {
		checkTooLarge(path.name+" SetMany", hitbox.SetMany(ctx, path.b, []hitbox.Item{{Key: "over", Entry: over}}))
	}
	wantMiss(t, b, "over")
}

func (s *backendSuite) accepted(t *testing.T) {
	b, _ := s.fresh(t)
	checkAccepted(t, b, s.opts.MaxValueSize, s.opts)
}

func (s *backendSuite) concurrent(t *testing.T) {
	b, _ := s.fresh(t)
	concurrently(t, b)
}

// concurrently runs writers and readers over own and shared keys at once.
// Own keys must read back exactly; shared keys must read back as one of the
// values written, never a blend. Run it under -race.
func concurrently(t *testing.T, b hitbox.Backend) {
	t.Helper()
	const workers, rounds = 8, 100
	ctx := context.Background()
	shared := [][]byte{value(64, 10), value(64, 20), value(64, 30)}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				own := fmt.Sprintf("own-%d-%d", w, i%10)
				v := fmt.Appendf(nil, "w%d-i%d", w, i)
				if err := b.Set(ctx, own, hitbox.Entry{Value: v}); err != nil {
					t.Errorf("Set %s: %v", own, err)
					return
				}
				if e, err := b.Get(ctx, own); err != nil || string(e.Value) != string(v) {
					t.Errorf("Get %s = %q, %v; want %q", own, e.Value, err, v)
					return
				}
				key := fmt.Sprintf("shared-%d", i%4)
				if err := b.Set(ctx, key, hitbox.Entry{Value: shared[(w+i)%len(shared)]}); err != nil {
					t.Errorf("Set %s: %v", key, err)
					return
				}
				res, err := hitbox.GetMany(ctx, b, []string{"shared-0", "shared-1", "shared-2", "shared-3"})
				if err != nil {
					t.Errorf("GetMany: %v", err)
					return
				}
				for _, r := range res {
					if r.Err == nil && !oneOf(r.Entry.Value, shared) {
						t.Errorf("a shared key read back %s, which no one wrote", show(r.Entry.Value))
						return
					} else if r.Err != nil && !isMiss(r.Err) {
						t.Errorf("GetMany result: %v", r.Err)
						return
					}
				}
				if i%7 == 0 {
					if err := b.Delete(ctx, key); err != nil {
						t.Errorf("Delete %s: %v", key, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func oneOf(v []byte, vs [][]byte) bool {
	for _, w := range vs {
		if string(v) == string(w) {
			return true
		}
	}
	return false
}
