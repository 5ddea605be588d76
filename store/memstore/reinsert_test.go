package memstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// TestReinsertNeverResurrects churns a small store so that hot keys reach
// the head of the queue and are written back, while one writer per hot
// key sets and deletes it with rising versions. Every read must return
// the value of the key's last finished change or a later one, or a miss:
// a re-insertion that landed after a Set or Delete would return an older
// version.
func TestReinsertNeverResurrects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{MaxBytes: 1 << 20, Shards: 1})
	const hot = 16
	ops := 300
	if testing.Short() {
		ops = 100
	}
	// done[k] is the op number of k's last finished change; a Set as op n
	// writes version n, a Delete as op n leaves nothing at or after n.
	var done [hot]atomic.Int64
	pad := strings.Repeat("x", 900)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop.Store(true)
	}
	var writers sync.WaitGroup
	for k := range hot {
		writers.Add(1)
		go func() {
			defer writers.Done()
			key := "hot:" + strconv.Itoa(k)
			for n := int64(1); n <= int64(ops) && !stop.Load(); n++ {
				var err error
				if n%7 == 0 {
					err = s.Delete(ctx, key)
				} else {
					err = s.Set(ctx, key, hitbox.Entry{Value: []byte(strconv.FormatInt(n, 10) + ":" + pad)})
				}
				if err != nil {
					report(err)
					return
				}
				done[k].Store(n)
			}
		}()
	}
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := (i + r) % hot
				floor := done[k].Load()
				e, err := s.Get(ctx, "hot:"+strconv.Itoa(k))
				if errors.Is(err, hitbox.ErrMiss) {
					continue
				}
				if err != nil {
					report(err)
					return
				}
				v, _, _ := strings.Cut(string(e.Value), ":")
				n, _ := strconv.ParseInt(v, 10, 64)
				if n < floor || (n == floor && floor%7 == 0) {
					report(fmt.Errorf("hot:%d read version %d after op %d had finished", k, n, floor))
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Cold keys, each written twice so admission keeps the second
		// write, push the hot ones to the head of the queue.
		for i := 0; !stop.Load(); i++ {
			key := "cold:" + strconv.Itoa(i)
			for range 2 {
				if err := s.Set(ctx, key, hitbox.Entry{Value: []byte(pad)}); err != nil {
					report(err)
					return
				}
			}
		}
	}()
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// withPending returns a one-shard store in which eight hot keys, each
// read once, were evicted at once by one write: maxChain of them were
// written back and the others wait (but for a key that lost its visited
// bit to a cold key sharing it). It returns the keys waiting and those
// written back; only cold keys, never read, follow them.
func withPending(t *testing.T) (s *Store, waiting, back []string) {
	t.Helper()
	ctx := context.Background()
	s, _ = newStore(t, Options{MaxBytes: 1 << 20, Shards: 1})
	small := hitbox.Entry{Value: make([]byte, 100)}
	for k := range 8 {
		if err := s.Set(ctx, "hot:"+strconv.Itoa(k), hitbox.Entry{Value: []byte("old hot:" + strconv.Itoa(k))}); err != nil {
			t.Fatal(err)
		}
	}
	cold := hitbox.Entry{Value: make([]byte, 1000)}
	for i := 0; s.adm.shards[0].written.Load()+int64(queueRecord(10, headerSize+1000)) <= 1<<20; i++ {
		if err := s.Set(ctx, fmt.Sprintf("cold:%05d", i), cold); err != nil {
			t.Fatal(err)
		}
	}
	// A write under pressure sizes the admission (and its visited bits);
	// used once, it is declined and evicts nothing.
	if err := s.Set(ctx, "sizing", small); err != nil {
		t.Fatal(err)
	}
	for k := range 8 {
		if _, err := s.Get(ctx, "hot:"+strconv.Itoa(k)); err != nil {
			t.Fatalf("hot:%d before the eviction: %v", k, err)
		}
	}
	// Written until admission keeps it (twice, or once if the sketch
	// takes it for another key): it evicts the eight hot entries at the
	// head at once.
	big := hitbox.Entry{Value: make([]byte, 1500)}
	for range 2 {
		if err := s.Set(ctx, "big", big); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cache.Get("big"); err == nil {
			break
		}
	}
	for _, e := range s.re.shards[0].q {
		if strings.HasPrefix(e.key, "hot:") {
			waiting = append(waiting, e.key)
		}
	}
	for k := range 8 {
		if _, err := s.cache.Get("hot:" + strconv.Itoa(k)); err == nil {
			back = append(back, "hot:"+strconv.Itoa(k))
		}
	}
	if len(waiting) == 0 || len(back) == 0 {
		t.Fatalf("waiting %v, written back %v; want both", waiting, back)
	}
	return s, waiting, back
}

// TestReinsertGivesUpAfterAChange checks that an evicted entry waiting to
// be written back is not written back once a change to its key (or a
// clear) has started, and that the others waiting are.
func TestReinsertGivesUpAfterAChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fresh := hitbox.Entry{Value: []byte("new")}
	tests := []struct {
		name    string
		change  func(s *Store, key string) error
		want    string // what the key reads, "" for a miss
		waiting bool   // the other waiting keys give up too (a change to every stripe)
		cleared bool   // every key is gone
	}{
		{"a Delete of a waiting key leaves it a miss",
			func(s *Store, key string) error { return s.Delete(ctx, key) }, "", false, false},
		{"a Set of a waiting key keeps the new value",
			func(s *Store, key string) error { return s.Set(ctx, key, fresh) }, "new", false, false},
		{"a SetTagged keeps the new value",
			func(s *Store, key string) error { return s.SetTagged(ctx, key, fresh, []string{"t"}) }, "new", false, false},
		{"a SetMany keeps the new value",
			func(s *Store, key string) error { return s.SetMany(ctx, []hitbox.Item{{Key: key, Entry: fresh}}) }, "new", false, false},
		{"a DeleteMany leaves it a miss",
			func(s *Store, key string) error { return s.DeleteMany(ctx, []string{key}) }, "", false, false},
		{"a Remove leaves it a miss",
			func(s *Store, key string) error { _, err := s.Remove(ctx, key); return err }, "", false, false},
		{"a Set that expired at once leaves it a miss",
			func(s *Store, key string) error {
				return s.Set(ctx, key, hitbox.Entry{Value: []byte("new"), Expire: time.Unix(1, 0)})
			}, "", false, false},
		{"a ClearPrefix leaves it a miss, and the others waiting",
			func(s *Store, key string) error { return s.ClearPrefix(ctx, key) }, "", true, false},
		{"a Clear leaves every key a miss",
			func(s *Store, key string) error { return s.Clear(ctx) }, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, waiting, back := withPending(t)
			target := waiting[0]
			if err := tt.change(s, target); err != nil {
				t.Fatal(err)
			}
			// Any write to the shard writes back what waits on it.
			for range 2 {
				if err := s.Set(ctx, "drain", hitbox.Entry{Value: []byte("d")}); err != nil {
					t.Fatal(err)
				}
			}
			if n := s.re.shards[0].n.Load(); n != 0 {
				t.Fatalf("%d entries still wait", n)
			}
			e, err := s.Get(ctx, target)
			switch {
			case tt.want == "" && !errors.Is(err, hitbox.ErrMiss):
				t.Errorf("%s = %q, %v; want a miss", target, e.Value, err)
			case tt.want != "" && (err != nil || string(e.Value) != tt.want):
				t.Errorf("%s = %q, %v; want %q", target, e.Value, err, tt.want)
			}
			check := func(key string, gone bool) {
				e, err := s.Get(ctx, key)
				switch {
				case gone && !errors.Is(err, hitbox.ErrMiss):
					t.Errorf("%s = %q, %v; want a miss", key, e.Value, err)
				case !gone && (err != nil || string(e.Value) != "old "+key):
					t.Errorf("%s = %q, %v; want its value, written back", key, e.Value, err)
				}
			}
			for _, key := range waiting[1:] {
				check(key, tt.waiting || tt.cleared)
			}
			for _, key := range back {
				check(key, tt.cleared)
			}
		})
	}
}

// TestReinsertKeepsReadEntries checks that an entry read once per turn of
// its shard's queue survives any number of turns, while one never read
// goes after the first, and that without admission (and so without
// re-insertion) the read one goes too.
func TestReinsertKeepsReadEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		disable bool
		read    string // how "read" is read: a Get, or a Hit its stamp vouched for
	}{{false, "Get"}, {true, "Get"}, {false, "Hit"}} {
		disable := tc.disable
		t.Run(fmt.Sprintf("DisableAdmission=%v/%s", disable, tc.read), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _ := newStore(t, Options{MaxBytes: 1 << 20, Shards: 1, DisableAdmission: disable})
			for _, k := range []string{"read", "unread"} {
				if err := s.Set(ctx, k, hitbox.Entry{Value: []byte(k)}); err != nil {
					t.Fatal(err)
				}
			}
			cold := hitbox.Entry{Value: make([]byte, 1000)}
			// Three turns of the queue; each cold key is written twice, so
			// admission keeps it.
			for i := range 3000 {
				if i%100 == 0 && tc.read == "Get" {
					_, _ = s.Get(ctx, "read")
				} else if i%100 == 0 {
					s.Hit("read")
				}
				for range 2 {
					if err := s.Set(ctx, fmt.Sprintf("cold:%05d", i), cold); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := s.Get(ctx, "read")
			if kept := err == nil; kept == disable {
				t.Errorf("the entry read once per 100 writes: Get = %v; want kept %v", err, !disable)
			}
			if _, err := s.Get(ctx, "unread"); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("the entry never read: Get = %v; want a miss", err)
			}
		})
	}
}
