package memstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// TestStampNeverHidesAnAcknowledgedChange plays a front over the store:
// a reader keeps the value of a Get it bracketed with two equal Stamps and
// answers from it while Stamp says the same, as httpcache's front does,
// against a writer that changes the key every way there is and notes each
// change once it has returned. Whenever the reader answers from its copy,
// the copy must be at least as new as every change acknowledged before
// the Stamp that let it answer.
func TestStampNeverHidesAnAcknowledgedChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	const key = "k"
	var acked atomic.Int64 // the last change that has returned
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		for n := int64(1); n <= 6000; n++ {
			v := hitbox.Entry{Value: []byte(strconv.FormatInt(n, 10))}
			var err error
			switch n % 6 {
			case 0:
				err = s.Set(ctx, key, v)
			case 1:
				var l hitbox.Lease
				if l, err = s.Lease(ctx, key, nil); err == nil {
					err = s.SetLeased(ctx, key, v, nil, l)
				}
			case 2:
				err = s.Delete(ctx, key)
			case 3:
				err = s.SetTagged(ctx, key, v, []string{"t"})
			case 4:
				err = s.InvalidateTags(ctx, "t")
			case 5:
				err = s.Clear(ctx)
			}
			if err != nil && !errors.Is(err, hitbox.ErrLeaseLost) {
				t.Errorf("change %d: %v", n, err)
				return
			}
			acked.Store(n)
		}
	}()
	var held struct {
		stamp uint64
		n     int64 // the change whose value it is
		ok    bool
	}
	answered := 0
	for !stop.Load() {
		ack := acked.Load()
		if held.ok {
			if st, ok := s.Stamp(key); ok && st == held.stamp {
				answered++
				if held.n < ack {
					t.Fatalf("answered change %d's value after change %d was acknowledged", held.n, ack)
				}
				continue
			}
			held.ok = false
		}
		st0, ok0 := s.Stamp(key)
		e, err := s.Get(ctx, key)
		st1, ok1 := s.Stamp(key)
		if err == nil && ok0 && ok1 && st0 == st1 {
			n, perr := strconv.ParseInt(string(e.Value), 10, 64)
			if perr != nil {
				t.Fatalf("read %q", e.Value)
			}
			held.stamp, held.n, held.ok = st0, n, true
		}
	}
	wg.Wait()
	t.Logf("answered %d reads from the held copy", answered)
}
