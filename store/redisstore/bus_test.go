package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/panics"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// waitLimit bounds how long a test waits for something the bus must
// deliver. Tests never wait for it to pass: a message ends the wait; the
// limit only turns a bus that never delivers into a failure, not a hang.
const waitLimit = 15 * time.Second

// testHealthCheck is the health check of the buses tests build unless they
// test it: long, so a loaded machine never makes a bus drop a live
// connection (and deliver an All) in the middle of a test.
const testHealthCheck = 10 * time.Second

// testBus is what both buses offer.
type testBus interface {
	hitbox.Bus
	Ready(ctx context.Context) error
	Close() error
}

// busKind builds one kind of bus for a process of a test.
type busKind struct {
	name string
	// tracking says the bus hears every client's writes, not only tiers'.
	tracking bool
	new      func(t testing.TB, rdb redis.UniversalClient, prefix string, opts redisstore.BusOptions) testBus
}

var busKinds = []busKind{
	{"tracking", true, func(t testing.TB, rdb redis.UniversalClient, prefix string, opts redisstore.BusOptions) testBus {
		t.Helper()
		b, err := redisstore.NewTrackingBus(rdb, prefix, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}},
	{"pubsub", false, func(t testing.TB, rdb redis.UniversalClient, prefix string, opts redisstore.BusOptions) testBus {
		t.Helper()
		b, err := redisstore.NewPubSubBus(rdb, prefix+"invalidate", opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}},
}

// process is what one service instance holds: a client of its own, a
// memstore L1, a redisstore L2 under the shared prefix, a bus, a tier over
// them, and an observer subscribed to the bus after the tier.
//
// The bus calls its subscriptions in the order they were made, one after
// another, so when the observer has seen a message the tier has already
// acted on it: tests wait on the observer, never on a clock.
type process struct {
	l1  *memstore.Store
	l2  *redisstore.Store
	bus testBus
	t   *tier.Tier
	obs *observer
}

// procOptions tune newProcess.
type procOptions struct {
	id           string
	prefix       string
	bus          redisstore.BusOptions
	tier         tier.Options
	noReady      bool // do not wait for the bus and its first All
	ownWritesOff bool // leave tier.Options.OwnWrites off on a tracking bus
}

// newProcess builds a process on rdb and, unless told not to, waits until
// its bus is live and its tier has handled the Alls that come with that
// (one per server tracked), so the tier's L1 is not about to be cleared
// by one, and its observer has nothing queued.
func newProcess(t testing.TB, kind busKind, rdb redis.UniversalClient, o procOptions) *process {
	t.Helper()
	p := &process{}
	var err error
	p.l1, err = memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.l2, err = redisstore.New(rdb, redisstore.Options{Prefix: o.prefix})
	if err != nil {
		t.Fatal(err)
	}
	if o.bus.HealthCheck == 0 {
		o.bus.HealthCheck = testHealthCheck
	}
	p.bus = kind.new(t, rdb, o.prefix, o.bus)
	opts := o.tier
	opts.ID, opts.Bus = o.id, p.bus
	switch {
	case o.ownWritesOff:
		opts.OwnWrites = 0
	case kind.tracking && opts.OwnWrites == 0:
		opts.OwnWrites = time.Minute
	}
	p.t = tier.NewWith(opts, p.l1, p.l2)
	p.obs = observe(p.bus)
	t.Cleanup(func() {
		p.obs.stop()
		_ = p.t.Close()
		_ = p.l1.Close()
	})
	if !o.noReady {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := p.bus.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		p.obs.waitAll(t)
		p.sync(t)
	}
	return p
}

// sync waits until the process's bus has delivered all it has received,
// and empties the observer.
func (p *process) sync(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := redisstore.FlushBus(ctx, p.bus); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case <-p.obs.ch:
		default:
			return
		}
	}
}

// newPair builds processes "a" and "b" sharing the server behind rdb under
// a prefix of t's own.
func newPair(t testing.TB, kind busKind, rdb redis.UniversalClient, tune func(*procOptions)) (a, b *process) {
	t.Helper()
	prefix := redistest.Prefix(t)
	mk := func(id string) *process {
		o := procOptions{id: id, prefix: prefix}
		if tune != nil {
			tune(&o)
		}
		return newProcess(t, kind, rdb, o)
	}
	return mk("a"), mk("b")
}

// observer records what a bus delivers.
type observer struct {
	ch   chan hitbox.Invalidation
	stop func()
}

func observe(bus hitbox.Bus) *observer {
	o := &observer{ch: make(chan hitbox.Invalidation, 1<<14)}
	o.stop = bus.Subscribe(func(inv hitbox.Invalidation) {
		inv.Keys = slices.Clone(inv.Keys) // the bus may reuse them
		inv.Tags = slices.Clone(inv.Tags)
		o.ch <- inv
	})
	return o
}

// next returns the next invalidation, failing t when none comes.
func (o *observer) next(t testing.TB) hitbox.Invalidation {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case inv := <-o.ch:
		return inv
	case <-timer.C:
		t.Fatalf("no invalidation within %v", waitLimit)
		return hitbox.Invalidation{}
	}
}

// waitAll waits for an invalidation with All set.
func (o *observer) waitAll(t testing.TB) {
	t.Helper()
	for !o.next(t).All {
	}
}

// waitKey waits for an invalidation of key and returns it. Tests write
// each key once before they wait for it, so the message is that write's.
func (o *observer) waitKey(t testing.TB, key string) hitbox.Invalidation {
	t.Helper()
	for {
		inv := o.next(t)
		if !inv.All && slices.Contains(inv.Keys, key) {
			return inv
		}
	}
}

// waitKeys waits until every one of keys has been invalidated, in one
// message or several.
func (o *observer) waitKeys(t testing.TB, keys ...string) {
	t.Helper()
	left := slices.Clone(keys)
	for len(left) > 0 {
		inv := o.next(t)
		if !inv.All {
			left = slices.DeleteFunc(left, func(k string) bool { return slices.Contains(inv.Keys, k) })
		}
	}
}

func entry(v string) hitbox.Entry {
	return hitbox.Entry{Value: []byte(v), Expire: time.Now().Add(time.Hour)}
}

// wantL1 checks what a process's L1 holds under key: want, or nothing when
// want is "".
func wantL1(t testing.TB, p *process, key, want string) {
	t.Helper()
	e, err := p.l1.Get(context.Background(), key)
	switch {
	case want == "" && !errors.Is(err, hitbox.ErrMiss):
		t.Fatalf("L1 holds %q = %q (err %v), want nothing", key, e.Value, err)
	case want != "" && (err != nil || string(e.Value) != want):
		t.Fatalf("L1 holds %q = %q (err %v), want %q", key, e.Value, err, want)
	}
}

// wantGet checks what a process's tier returns for key.
func wantGet(t testing.TB, p *process, key, want string) {
	t.Helper()
	e, err := p.t.Get(context.Background(), key)
	switch {
	case want == "" && !errors.Is(err, hitbox.ErrMiss):
		t.Fatalf("Get(%q) = %q, %v; want a miss", key, e.Value, err)
	case want != "" && (err != nil || string(e.Value) != want):
		t.Fatalf("Get(%q) = %q, %v; want %q", key, e.Value, err, want)
	}
}

func set(t testing.TB, p *process, key, v string) {
	t.Helper()
	if err := p.t.Set(context.Background(), key, entry(v)); err != nil {
		t.Fatal(err)
	}
}

// warm makes b hold key's current value in its L1, after a's write of it
// has reached b.
func warm(t testing.TB, a, b *process, key, v string) {
	t.Helper()
	set(t, a, key, v)
	b.obs.waitKey(t, key)
	wantGet(t, b, key, v)
	wantL1(t, b, key, v)
}

// TestBusCoherence checks, for both buses, the promise of hitbox.Bus: after
// one process writes, another reads the new value and never its old L1
// copy, and the writer keeps its own fresh copy.
func TestBusCoherence(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rdb := redistest.Shared(t).Client(t)
			a, b := newPair(t, kind, rdb, nil)

			t.Run("a write by A drops B's copy, and B reads A's value", func(t *testing.T) {
				warm(t, a, b, "k1", "old")
				set(t, a, "k1", "new")
				b.obs.waitKey(t, "k1")
				wantL1(t, b, "k1", "")
				wantGet(t, b, "k1", "new")
			})
			t.Run("A's own write keeps A's fresh copy", func(t *testing.T) {
				set(t, a, "k2", "mine")
				a.obs.waitKey(t, "k2") // the echo (tracking) or A's own message (pub/sub)
				wantL1(t, a, "k2", "mine")
			})
			t.Run("a delete by A drops B's copy", func(t *testing.T) {
				warm(t, a, b, "k3", "doomed")
				if err := a.t.Delete(context.Background(), "k3"); err != nil {
					t.Fatal(err)
				}
				b.obs.waitKey(t, "k3")
				wantL1(t, b, "k3", "")
				wantGet(t, b, "k3", "")
			})
			t.Run("a batch by A drops B's copies of every key", func(t *testing.T) {
				warm(t, a, b, "m1", "old")
				warm(t, a, b, "m2", "old")
				items := []hitbox.Item{{Key: "m1", Entry: entry("new")}, {Key: "m2", Entry: entry("new")}}
				if err := a.t.SetMany(context.Background(), items); err != nil {
					t.Fatal(err)
				}
				b.obs.waitKeys(t, "m1", "m2")
				wantGet(t, b, "m1", "new")
				wantGet(t, b, "m2", "new")
			})
			t.Run("a clear by A clears B's L1", func(t *testing.T) {
				warm(t, a, b, "c1", "old")
				if err := a.t.Clear(context.Background()); err != nil {
					t.Fatal(err)
				}
				if kind.tracking {
					b.obs.waitKey(t, "c1") // the store's UNLINK of it
				} else {
					b.obs.waitAll(t) // what A published
				}
				wantL1(t, b, "c1", "")
				wantGet(t, b, "c1", "")
			})
		})
	}
}

// TestBusOwnWritesOff shows what tier.Options.OwnWrites is for on a
// tracking bus: without it, a tier's own Set comes back from Redis and
// evicts the copy it has just put in its L1 (a later read refills it).
func TestBusOwnWritesOff(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	kind := busKinds[0]
	p := newProcess(t, kind, rdb, procOptions{id: "a", prefix: redistest.Prefix(t), ownWritesOff: true})
	set(t, p, "k", "v")
	p.obs.waitKey(t, "k")
	wantL1(t, p, "k", "")
	wantGet(t, p, "k", "v")
}

// TestBusReconnect checks that a bus whose subscriber connection is killed
// reconnects and delivers All, which clears every L1, and then carries
// invalidations again.
func TestBusReconnect(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			a, b := newPair(t, kind, rdb, nil)
			warm(t, a, b, "k", "v")
			wantL1(t, a, "k", "v")

			// Both processes' subscriber connections, and nothing else.
			if err := rdb.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
			a.obs.waitAll(t)
			b.obs.waitAll(t)
			wantL1(t, a, "k", "")
			wantL1(t, b, "k", "")

			warm(t, a, b, "k", "again") // the bus works after the reconnect
			set(t, a, "k", "newer")
			b.obs.waitKey(t, "k")
			wantGet(t, b, "k", "newer")
		})
	}
}

// TestBusServerRestart checks that a server that crashes and comes back
// empty makes every bus deliver All once it has reconnected.
func TestBusServerRestart(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			a, b := newPair(t, kind, rdb, nil)
			warm(t, a, b, "k", "v")
			srv.Kill()
			srv.Restart(t)
			b.obs.waitAll(t)
			wantL1(t, b, "k", "")
			wantGet(t, b, "k", "") // the restarted server is empty
		})
	}
}

// TestBusDown checks that a bus says Down before anything else whenever
// delivery may have stopped: at Subscribe, before it has connected; as
// soon as its server dies; and at a failed health check (a frozen server);
// and that the All comes once it is subscribed again.
func TestBusDown(t *testing.T) {
	t.Parallel()
	want := func(t *testing.T, o *observer, what string, down bool) {
		t.Helper()
		inv := o.next(t)
		if inv.Down != down || inv.All == down || len(inv.Keys)+len(inv.Tags) > 0 {
			t.Fatalf("%s: got %+v, want Down %v", what, inv, down)
		}
	}
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			bus := kind.new(t, rdb, redistest.Prefix(t), redisstore.BusOptions{HealthCheck: 100 * time.Millisecond})
			o := observe(bus)
			defer o.stop()
			want(t, o, "at Subscribe, not yet connected", true)
			want(t, o, "once connected", false)

			srv.Kill()
			want(t, o, "server killed", true)
			srv.Restart(t)
			want(t, o, "server back", false)

			srv.Pause()
			resumed := false
			defer func() {
				if !resumed {
					srv.Resume()
				}
			}()
			want(t, o, "server frozen: health check failed", true)
			srv.Resume()
			resumed = true
			want(t, o, "server answering again", false)
		})
	}
}

// TestBusHealthCheck checks that a connection that falls silent (a frozen
// server keeps its sockets open) is dropped within the health check and
// replaced, with an All, once the server answers again.
func TestBusHealthCheck(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			rdb := srv.Client(t)
			logs := newLogSink()
			p := newProcess(t, kind, rdb, procOptions{id: "a", prefix: redistest.Prefix(t),
				bus: redisstore.BusOptions{HealthCheck: 50 * time.Millisecond, Logger: logs.logger()}})
			srv.Pause()
			resumed := false
			defer func() {
				if !resumed {
					srv.Resume()
				}
			}()
			rec := logs.wait(t, "connection lost")
			if err, _ := rec["err"].(error); err == nil || !strings.Contains(err.Error(), "no reply to a ping") {
				t.Fatalf("lost with %v, want a ping unanswered", rec["err"])
			}
			srv.Resume()
			resumed = true
			p.obs.waitAll(t)
		})
	}
}

// TestBusSlowSubscriber checks that invalidations a subscriber is too slow
// to take are replaced by one All, not queued without bound.
func TestBusSlowSubscriber(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rdb := redistest.Shared(t).Client(t)
			prefix := redistest.Prefix(t)
			logs := newLogSink()
			bus := kind.new(t, rdb, prefix, redisstore.BusOptions{Queue: 2, HealthCheck: testHealthCheck, Logger: logs.logger()})
			held, gate := make(chan struct{}), make(chan struct{})
			var mu sync.Mutex
			var got []hitbox.Invalidation
			first := true
			stop := bus.Subscribe(func(inv hitbox.Invalidation) {
				if first && inv.Down {
					return // the Down of a bus not yet connected
				}
				if first {
					first = false
					close(held)
					<-gate // hold the bus up on the first All
				}
				mu.Lock()
				got = append(got, hitbox.Invalidation{All: inv.All, Keys: slices.Clone(inv.Keys)})
				mu.Unlock()
			})
			defer stop()
			// Not Ready: it would wait for the held subscriber.
			<-held
			ctx := context.Background()
			w := writer(t, kind, rdb, bus, prefix)
			for i := range 5 {
				w(ctx, "k"+string(rune('0'+i)))
			}
			logs.wait(t, "fell behind")
			close(gate)
			// The All for what was dropped is queued by now: wait for it.
			if err := redisstore.FlushBus(ctx, bus); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) < 2 || !got[0].All || !got[1].All {
				t.Fatalf("got %+v, want the first All, then an All for what was dropped", got)
			}
			for _, inv := range got[2:] {
				if slices.Contains(inv.Keys, "k0") {
					t.Fatalf("got %+v: k0 was delivered after the queue overflowed", got)
				}
			}
		})
	}
}

// writer returns a function that makes the bus report key: a plain write
// under the prefix for a tracking bus, a Publish for a pub/sub bus.
func writer(t testing.TB, kind busKind, rdb redis.UniversalClient, bus testBus, prefix string) func(ctx context.Context, key string) {
	return func(ctx context.Context, key string) {
		t.Helper()
		var err error
		if kind.tracking {
			err = rdb.Set(ctx, prefix+key, "x", 0).Err()
		} else {
			err = bus.(hitbox.Publisher).Publish(ctx, hitbox.Invalidation{Origin: "w", Keys: []string{key}})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBusClose checks Close and stop: both idempotent, no call after
// either, and every method failing cleanly on a closed bus.
func TestBusClose(t *testing.T) {
	t.Parallel()
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rdb := redistest.Shared(t).Client(t)
			bus := kind.new(t, rdb, redistest.Prefix(t), redisstore.BusOptions{})
			obs := observe(bus)
			if err := bus.Ready(context.Background()); err != nil {
				t.Fatal(err)
			}
			obs.waitAll(t)
			obs.stop()
			obs.stop()
			for range 2 {
				if err := bus.Close(); err != nil {
					t.Fatal(err)
				}
			}
			late := bus.Subscribe(func(hitbox.Invalidation) { t.Error("a subscription made after Close was called") })
			late()
			if err := bus.Ready(context.Background()); !errors.Is(err, hitbox.ErrClosed) {
				t.Fatalf("Ready after Close = %v, want ErrClosed", err)
			}
			if p, ok := bus.(hitbox.Publisher); ok {
				err := p.Publish(context.Background(), hitbox.Invalidation{Keys: []string{"k"}})
				if !errors.Is(err, hitbox.ErrClosed) {
					t.Fatalf("Publish after Close = %v, want ErrClosed", err)
				}
			}
			select {
			case inv := <-obs.ch:
				t.Fatalf("a stopped subscription got %+v", inv)
			default:
			}
		})
	}
}

// TestBusOptions checks what the bus constructors refuse: programmer
// errors, each a panic naming the argument or option, whose message is
// BusOptions.Validate's error where an option is at fault.
func TestBusOptions(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	var none redisstore.BusOptions
	cases := []struct {
		name string
		opts redisstore.BusOptions // checked with Validate when not the zero value
		new  func(redisstore.BusOptions)
		want string
	}{
		{"A tracking bus needs a client.", none,
			func(o redisstore.BusOptions) { _, _ = redisstore.NewTrackingBus(nil, "p:", o) },
			"hitbox/redisstore: NewTrackingBus: nil client"},
		{"A tracking bus must be able to walk the client's servers.", none,
			func(o redisstore.BusOptions) { _, _ = redisstore.NewTrackingBus(wrapped{rdb}, "p:", o) },
			"hitbox/redisstore: NewTrackingBus: client: a redisstore_test.wrapped, want a *redis.Client, *redis.ClusterClient or *redis.Ring"},
		{"A negative HealthCheck cannot work.", redisstore.BusOptions{HealthCheck: -time.Second},
			func(o redisstore.BusOptions) { _, _ = redisstore.NewTrackingBus(rdb, "p:", o) },
			"hitbox/redisstore: BusOptions.HealthCheck: negative (-1s)"},
		{"A negative MaxBackoff cannot work.", redisstore.BusOptions{MaxBackoff: -time.Second},
			func(o redisstore.BusOptions) { _, _ = redisstore.NewPubSubBus(rdb, "ch", o) },
			"hitbox/redisstore: BusOptions.MaxBackoff: negative (-1s)"},
		{"A negative Queue cannot work.", redisstore.BusOptions{Queue: -1},
			func(o redisstore.BusOptions) { _, _ = redisstore.NewPubSubBus(rdb, "ch", o) },
			"hitbox/redisstore: BusOptions.Queue: negative (-1)"},
		{"A negative Topology cannot work.", redisstore.BusOptions{Topology: -time.Second},
			func(o redisstore.BusOptions) { _, _ = redisstore.NewTrackingBus(rdb, "p:", o) },
			"hitbox/redisstore: BusOptions.Topology: negative (-1s)"},
		{"A pub/sub bus needs a client.", none,
			func(o redisstore.BusOptions) { _, _ = redisstore.NewPubSubBus(nil, "ch", o) },
			"hitbox/redisstore: NewPubSubBus: nil client"},
		{"A pub/sub bus needs a channel.", none,
			func(o redisstore.BusOptions) { _, _ = redisstore.NewPubSubBus(rdb, "", o) },
			"hitbox/redisstore: NewPubSubBus: empty channel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.opts != none {
				if err := c.opts.Validate(); err == nil || err.Error() != c.want {
					t.Errorf("Validate = %v, want %q", err, c.want)
				}
			}
			if got := panics.Message(func() { c.new(c.opts) }); got != c.want {
				t.Errorf("panicked with %q, want %q", got, c.want)
			}
		})
	}
}

// wrapped hides the concrete client type, as a user's wrapper would.
type wrapped struct{ redis.UniversalClient }

// logSink is a slog handler that keeps records, so tests can wait for one.
type logSink struct {
	mu   sync.Mutex
	recs []map[string]any
	ch   chan struct{}
}

func newLogSink() *logSink { return &logSink{ch: make(chan struct{}, 1)} }

func (s *logSink) logger() *slog.Logger { return slog.New(s) }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]any{"msg": r.Message, "level": r.Level}
	r.Attrs(func(a slog.Attr) bool {
		rec[a.Key] = a.Value.Any()
		return true
	})
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return nil
}

// wait returns the first record whose message contains msg, waiting for
// one to be logged.
func (s *logSink) wait(t testing.TB, msg string) map[string]any {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		s.mu.Lock()
		for _, r := range s.recs {
			if strings.Contains(r["msg"].(string), msg) {
				s.mu.Unlock()
				return r
			}
		}
		s.mu.Unlock()
		select {
		case <-s.ch:
		case <-timer.C:
			t.Fatalf("nothing logged with %q within %v", msg, waitLimit)
		}
	}
}
