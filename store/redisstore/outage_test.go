package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// outageSlack is what the stall bound allows beyond the client's own
// timeouts: scheduling of many goroutines on a small, shared machine under
// the race detector, and the local work of a call (L1, the loader, the
// encoding), which RELIABILITY.md records for a healthy run. It is not a
// budget for any I/O.
const outageSlack = 400 * time.Millisecond

// TestOutageStall runs a tier of memstore over redisstore, with the client
// from ClientOptions, under a typed GetOrLoad load from several goroutines,
// while the server is killed, restarted, frozen (SIGSTOP) and resumed. No
// call may fail: the tier treats a failing level as a miss and the loader
// answers. And no call may stall longer than twice the client's
// ReadTimeout plus outageSlack: on a frozen server the worst a GetOrLoad
// meets is one read of the level (its Get) and one reply to wait for (the
// Set of what it loaded), each cut at ReadTimeout, since the client makes a
// single attempt (no retries, no dial retries); on a killed server every
// dial is refused at once; once the level's breaker opens, the calls skip
// it. Without those settings (go-redis's defaults: 5 s timeouts, three
// retries of a timed-out read, five dial attempts per connection) the same
// load stalled for seconds.
//
// Only a real stall may fail it: on a loaded machine (two cores, -race,
// other test binaries) a goroutine can wait for a core longer than any
// fixed slack. So beside the workers, reference goroutines run the same
// GetOrLoad on a cache with no level below L1 (no I/O at all), and each
// phase's bound adds the worst reference call of that phase: the
// scheduling, GC and race-detector delay the workers met at the same
// moment. A client that retried or waited out a longer timeout adds
// whole ReadTimeouts that no reference call sees. (Retrying the window
// was the other choice; it hides a stall that happens once in two runs.)
func TestOutageStall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a few seconds of load")
	}
	t.Parallel()
	srv := redistest.Start(t)
	opts := redisstore.ClientOptions(srv.Addr)
	bound := 2*opts.ReadTimeout + outageSlack
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })

	l1, err := memstore.New(memstore.Options{MaxBytes: 8 << 20, Shards: 8})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	// A short cool-down, so the frozen phase also sees the breaker probe
	// the level (each probe is one more call that meets the frozen server).
	tr := tier.NewWith(tier.Options{Breaker: tier.Breaker{CoolDown: 100 * time.Millisecond}}, l1, l2)
	t.Cleanup(func() { _ = tr.Close() })
	type user struct {
		ID   int
		Name string
	}
	users := cache.New[user](tr, cache.Options{TTL: time.Minute})
	t.Cleanup(func() { _ = users.Close() })

	// ref is the reference: the same typed GetOrLoad over L1 alone.
	refL1, err := memstore.New(memstore.Options{MaxBytes: 8 << 20, Shards: 8})
	if err != nil {
		t.Fatal(err)
	}
	ref := cache.New[user](refL1, cache.Options{TTL: time.Minute})
	t.Cleanup(func() { _ = ref.Close(); _ = refL1.Close() })

	const workers, refWorkers = 8, 2
	var (
		phase    atomic.Int32 // index into phases
		calls    atomic.Int64 // calls finished in the current phase
		worst    [5]atomic.Int64
		refWorst [5]atomic.Int64
		failed   atomic.Value // the first error, as a string
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	phases := [...]string{"healthy", "killed", "restarted", "frozen", "resumed"}
	record := func(worst *atomic.Int64, took time.Duration) {
		for {
			old := worst.Load()
			if int64(took) <= old || worst.CompareAndSwap(old, int64(took)) {
				return
			}
		}
	}
	for w := range workers + refWorkers {
		cache, worst := users, &worst
		if w >= workers {
			cache, worst = ref, &refWorst
		}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := rng.IntN(1 << 16) // mostly L1 misses: the level below is read
				key := hitbox.NewKey("users").WithInt("id", int64(id)).String()
				p := phase.Load()
				start := time.Now()
				u, err := cache.GetOrLoad(context.Background(), key, func(context.Context) (user, error) {
					return user{ID: id, Name: "u"}, nil
				})
				took := time.Since(start)
				if err == nil && u.ID != id {
					err = fmt.Errorf("got user %d for %d", u.ID, id)
				}
				if err != nil {
					failed.CompareAndSwap(nil, fmt.Sprintf("%s: %v", phases[p], err))
				}
				record(&worst[p], took)
				if cache == users {
					calls.Add(1)
				}
			}
		})
	}

	// Each phase lasts until its condition holds, checked every few
	// milliseconds, within a deadline that only keeps a broken run from
	// hanging.
	level := func() tier.LevelStats { return tr.Stats().Levels[1] }
	until := func(name string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: condition not reached in 20s (level: %+v)", name, level())
			}
			<-tick.C
		}
	}
	next := func(p int) {
		calls.Store(0)
		phase.Store(int32(p))
	}
	enough := func() bool { return calls.Load() >= 2000 }
	opensBy := func(n uint64) func() bool {
		from := level().Opens
		return func() bool { return level().Opens >= from+n && enough() }
	}
	healthy := func() bool { return !level().Open && enough() }

	until("healthy", healthy)
	srv.Kill()
	next(1)
	until("killed", opensBy(2)) // the breaker opened, and a probe failed
	srv.Restart(t)
	next(2)
	until("restarted", healthy)
	srv.Pause()
	next(3)
	until("frozen", opensBy(2))
	srv.Resume()
	next(4)
	until("resumed", healthy)
	close(stop)
	wg.Wait()

	if f := failed.Load(); f != nil {
		t.Errorf("a call failed: %s", f)
	}
	for i, name := range phases {
		d, noise := time.Duration(worst[i].Load()), time.Duration(refWorst[i].Load())
		t.Logf("%-9s worst call %v, worst reference call %v", name, d.Round(time.Millisecond), noise.Round(time.Millisecond))
		if d > bound+noise {
			t.Errorf("%s: the worst call stalled %v, over the bound of 2 x ReadTimeout (%v) + %v + the worst reference call (%v)",
				name, d, opts.ReadTimeout, outageSlack, noise)
		}
	}
}

// TestClientOptions checks the settings ClientOptions promises, as go-redis
// reads them: -1 is its way to say "no retries".
func TestClientOptions(t *testing.T) {
	t.Parallel()
	o := redisstore.ClientOptions("127.0.0.1:1")
	checks := []struct {
		name      string
		got, want any
	}{
		{"the address is the one given", o.Addr, "127.0.0.1:1"},
		{"context deadlines bound network I/O", o.ContextTimeoutEnabled, true},
		{"one dial attempt per connection", o.DialerRetries, 1},
		{"a command is never retried", o.MaxRetries, -1},
		{"a frozen server holds a read for at most ReadTimeout", o.ReadTimeout, 200 * time.Millisecond},
		{"writes are bounded alike", o.WriteTimeout, o.ReadTimeout},
		{"waiting for a connection is bounded alike", o.PoolTimeout, o.ReadTimeout},
		{"a dial is bounded", o.DialTimeout, 250 * time.Millisecond},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestClusterClientOptions checks that the cluster options carry
// ClientOptions's settings and reload the slot map every second.
func TestClusterClientOptions(t *testing.T) {
	t.Parallel()
	b := redisstore.ClientOptions("")
	o := redisstore.ClusterClientOptions("127.0.0.1:1", "127.0.0.1:2")
	checks := []struct {
		name      string
		got, want any
	}{
		{"the addresses are the ones given", len(o.Addrs), 2},
		{"context deadlines bound network I/O", o.ContextTimeoutEnabled, b.ContextTimeoutEnabled},
		{"one dial attempt per connection", o.DialerRetries, b.DialerRetries},
		{"a command is never retried", o.MaxRetries, b.MaxRetries},
		{"reads are bounded as for one server", o.ReadTimeout, b.ReadTimeout},
		{"writes are bounded alike", o.WriteTimeout, b.WriteTimeout},
		{"waiting for a connection is bounded alike", o.PoolTimeout, b.PoolTimeout},
		{"a dial is bounded", o.DialTimeout, b.DialTimeout},
		{"a failover is noticed within a second, not a minute", o.ClusterStateReloadInterval, time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
