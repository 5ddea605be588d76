package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// TestMain silences go-redis's own log lines (every refused dial of an
// outage would print one) and checks that no goroutine outlives the tests.
func TestMain(m *testing.M) {
	redistest.Quiet()
	os.Exit(redistest.Main(m))
}

// clientOptions returns the go-redis settings the figures are measured
// with: the README's recommendation for a cache, redisstore.ClientOptions
// (200ms timeouts, one dial attempt, no retries). RELIABILITY.md lists them.
func clientOptions(addr string) *redis.Options { return redisstore.ClientOptions(addr) }

// clusterReload is how often a cluster client reloads the topology by
// itself. go-redis reloads on a MOVED reply, not when a master stops
// answering, and otherwise only every minute by default: without this, a
// failed-over shard stays unreachable for up to that minute.
const clusterReload = time.Second

// withClusterSettings applies clientOptions's settings to cluster options.
func withClusterSettings(o *redis.ClusterOptions) *redis.ClusterOptions {
	b := clientOptions("")
	o.ContextTimeoutEnabled = b.ContextTimeoutEnabled
	o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = b.ReadTimeout, b.WriteTimeout, b.PoolTimeout
	o.DialTimeout, o.DialerRetries, o.MaxRetries = b.DialTimeout, b.DialerRetries, b.MaxRetries
	o.ClusterStateReloadInterval = clusterReload
	return o
}

// withFailoverSettings applies clientOptions's settings to Sentinel
// failover options.
func withFailoverSettings(o *redis.FailoverOptions) *redis.FailoverOptions {
	b := clientOptions("")
	o.ContextTimeoutEnabled = b.ContextTimeoutEnabled
	o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = b.ReadTimeout, b.WriteTimeout, b.PoolTimeout
	o.DialTimeout, o.DialerRetries, o.MaxRetries = b.DialTimeout, b.DialerRetries, b.MaxRetries
	return o
}

// coolDown is the breaker's cool-down in these tests: a tenth of the
// default, so a recovery fits a short test. A level stays skipped this long
// after its breaker opens; the figures of recovery include it.
const coolDown = 500 * time.Millisecond

// prefix is the store prefix every instance shares, as the processes of
// one service would.
const prefix = "app:"

// item is the typed value of the load: the key it belongs to and the
// version of the source it was loaded from, so a reader can tell a value
// that belongs to another key (a reply read on the wrong connection) or
// that never existed.
type item struct {
	Key     string `json:"k"`
	Version int64  `json:"v"`
	Pad     string `json:"p"`
}

// source is the system of record behind the cache: a version per key,
// which writers raise.
type source struct {
	pad string

	mu       sync.Mutex
	versions map[string]int64

	loads atomic.Int64
}

func newSource(valueSize int) *source {
	return &source{pad: strings.Repeat("x", valueSize), versions: make(map[string]int64)}
}

func (s *source) current(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[key]
}

// load is the loader GetOrLoad runs: it always answers.
func (s *source) load(key string) func(context.Context) (item, error) {
	return func(context.Context) (item, error) {
		s.loads.Add(1)
		return item{Key: key, Version: s.current(key), Pad: s.pad}, nil
	}
}

// bump raises key's version and returns the new value.
func (s *source) bump(key string) item {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[key]++
	return item{Key: key, Version: s.versions[key], Pad: s.pad}
}

// check says what is wrong with v read under key, or nothing.
func (s *source) check(key string, v item) error {
	switch {
	case v.Key != key:
		return fmt.Errorf("read %q, got the value of %q", key, v.Key)
	case v.Pad != s.pad:
		return fmt.Errorf("read %q, got a damaged value (%d pad bytes)", key, len(v.Pad))
	case v.Version > s.current(key):
		return fmt.Errorf("read %q, got version %d, newer than the source's %d", key, v.Version, s.current(key))
	}
	return nil
}

// instance is one service process: its own client, store, bus, tier and
// typed cache.
type instance struct {
	l1    *memstore.Store
	l2    *redisstore.Store
	tier  *tier.Tier
	cache *cache.Cache[item]
	bus   *redisstore.TrackingBus // nil without a bus
	logs  *counter
	close []func() error // in order
}

// newInstance builds an instance over client. With bus set, it tracks the
// store's keys with a TrackingBus on client. l1TTL caps how long L1 keeps
// an entry: short, so the load keeps reading L2 and a fault there shows.
func newInstance(t testing.TB, name string, client redis.UniversalClient, bus bool, l1TTL time.Duration) *instance {
	t.Helper()
	in := &instance{logs: &counter{}}
	log := slog.New(in.logs)
	var err error
	if in.l1, err = memstore.New(memstore.Options{Label: "l1", MaxBytes: 16 << 20, Shards: 16}); err != nil {
		t.Fatal(err)
	}
	if in.l2, err = redisstore.New(client, redisstore.Options{Label: "l2", Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	opts := tier.Options{
		Label:   name,
		Breaker: tier.Breaker{CoolDown: coolDown},
		MaxTTL:  []time.Duration{l1TTL},
		Logger:  log,
	}
	if bus {
		in.bus, err = redisstore.NewTrackingBus(client, prefix, redisstore.BusOptions{
			Topology: time.Second, // how soon a promoted master is tracked
			Logger:   log,
		})
		if err != nil {
			t.Fatal(err)
		}
		opts.Bus = in.bus
	}
	in.tier = tier.NewWith(opts, in.l1, in.l2)
	in.cache = cache.New[item](in.tier, cache.Options{Logger: log})
	in.close = append(in.close, in.cache.Close, in.tier.Close)
	if in.bus != nil {
		in.close = append(in.close, in.bus.Close)
	}
	in.close = append(in.close, client.Close)
	return in
}

// Close closes what the instance built, the cache first, the client last.
func (in *instance) Close() error {
	var errs []error
	for _, c := range in.close {
		if err := c(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// counter is a slog handler that counts records at Warn and above, and
// keeps the first few messages.
type counter struct {
	n     atomic.Int64
	mu    sync.Mutex
	first []string
}

func (c *counter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (c *counter) Handle(_ context.Context, r slog.Record) error {
	c.n.Add(1)
	c.mu.Lock()
	if len(c.first) < 3 {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		c.first = append(c.first, b.String())
	}
	c.mu.Unlock()
	return nil
}
func (c *counter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *counter) WithGroup(string) slog.Handler      { return c }

// load is a running mixed load: readers calling GetOrLoad on random keys
// through random instances, and a writer raising versions and writing them
// through Set, as a service that updated its database would.
type load struct {
	src  *source
	ins  []*instance
	keys []string

	reads, readErrs, wrong, writes, writeErrs atomic.Int64
	// The worst stalls, in nanoseconds: since the last resetWorst, and
	// over the whole run.
	worstRead, worstWrite atomic.Int64
	maxRead, maxWrite     atomic.Int64

	mu       sync.Mutex
	firstErr []string
	slow     []slowOp // the first calls that took over slowCall
	start    time.Time

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// startLoad runs readers reader goroutines and one writer over keys until
// Stop, or t's end. The writer pauses a millisecond between writes, so
// reads dominate.
func startLoad(t testing.TB, src *source, ins []*instance, keys []string, readers int) *load {
	l := &load{src: src, ins: ins, keys: keys, stop: make(chan struct{}), start: time.Now()}
	for range readers {
		l.wg.Go(l.read)
	}
	l.wg.Go(l.write)
	t.Cleanup(func() {
		l.Stop()
		if t.Failed() {
			t.Logf("load: %s; first problems:\n%s", l, strings.Join(l.firstErr, "\n"))
		}
	})
	return l
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.firstErr) < 5 {
		l.firstErr = append(l.firstErr, fmt.Sprintf(format, args...))
	}
}

// slowCall is how long a call may take before the load notes when it
// happened, for a soak to tell which phase it fell in.
const slowCall = time.Second

// slowOp is a call that took over slowCall.
type slowOp struct {
	op    string
	start time.Time
	d     time.Duration
}

func (l *load) slowCall(op string, start time.Time, d time.Duration) {
	if d < slowCall {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.slow) < 20 {
		l.slow = append(l.slow, slowOp{op, start, d})
	}
}

func worst(w *atomic.Int64, d time.Duration) {
	for {
		old := w.Load()
		if int64(d) <= old || w.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func (l *load) read() {
	for !l.stopped() {
		in := l.ins[rand.IntN(len(l.ins))]
		key := l.keys[rand.IntN(len(l.keys))]
		start := time.Now()
		v, err := in.cache.GetOrLoad(context.Background(), key, l.src.load(key))
		d := time.Since(start)
		worst(&l.worstRead, d)
		worst(&l.maxRead, d)
		l.slowCall("GetOrLoad", start, d)
		l.reads.Add(1)
		if err != nil {
			l.readErrs.Add(1)
			l.note("GetOrLoad %s: %v", key, err)
			continue
		}
		if err := l.src.check(key, v); err != nil {
			l.wrong.Add(1)
			l.note("%v", err)
		}
	}
}

func (l *load) write() {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !l.stopped() {
		in := l.ins[rand.IntN(len(l.ins))]
		key := l.keys[rand.IntN(len(l.keys))]
		start := time.Now()
		err := in.cache.Set(context.Background(), key, l.src.bump(key))
		d := time.Since(start)
		worst(&l.worstWrite, d)
		worst(&l.maxWrite, d)
		l.slowCall("Set", start, d)
		l.writes.Add(1)
		if err != nil {
			l.writeErrs.Add(1)
		}
		select {
		case <-tick.C:
		case <-l.stop:
		}
	}
}

// Stop ends the load and waits for its goroutines.
func (l *load) Stop() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// resetWorst starts a new measurement window for the worst stalls.
func (l *load) resetWorst() { l.worstRead.Store(0); l.worstWrite.Store(0) }

// String sums the load up for the test log.
func (l *load) String() string {
	return fmt.Sprintf("%d reads (%d failed, %d wrong), worst read %v; %d writes (%d failed), worst write %v; %d loads",
		l.reads.Load(), l.readErrs.Load(), l.wrong.Load(), time.Duration(l.maxRead.Load()).Round(time.Millisecond),
		l.writes.Load(), l.writeErrs.Load(), time.Duration(l.maxWrite.Load()).Round(time.Millisecond), l.src.loads.Load())
}

// checkReads fails t when a read failed or returned a wrong value.
func (l *load) checkReads(t testing.TB) {
	t.Helper()
	if l.readErrs.Load() != 0 || l.wrong.Load() != 0 {
		t.Errorf("%s\nfirst problems: %s", l, strings.Join(l.firstErr, "\n"))
	}
}

// verifyNone fails t if a goroutine started since before is still
// running. go-redis probes a dead server from a goroutine that sleeps a
// second between dials and sees the pool closed only when it wakes, so the
// check waits a few seconds for stragglers (goleak.Find retries for about
// a second each time).
func verifyNone(t testing.TB, before goleak.Option) {
	t.Helper()
	for range 5 {
		if goleak.Find(before) == nil {
			return
		}
	}
	goleak.VerifyNone(t, before)
}

// keys returns n keys of t's own, so no test reads what another wrote.
func keys(t testing.TB, n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("%suser:%d", strings.TrimPrefix(redistest.Prefix(t), "test:"), i)
	}
	return ks
}

// waitFor retries f every 10ms until it succeeds and returns how long that
// took, failing t after bound. The pacing is not measured by any
// assertion; the duration is a figure for the log.
func waitFor(t testing.TB, bound time.Duration, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("%s: still failing after %v: %v", what, bound, err)
		}
		<-tick.C
	}
}

// l2Stats sums the L2 figures of every instance's tier.
func l2Stats(ins []*instance) (opens, errs, skipped, hits uint64, open int) {
	for _, in := range ins {
		s := in.tier.Stats().Levels[1]
		opens += s.Opens
		errs += s.Errors
		skipped += s.Skipped
		hits += s.Hits
		if s.Open {
			open++
		}
	}
	return
}
