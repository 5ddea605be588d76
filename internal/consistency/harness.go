package consistency

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/pauses"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// BusKind is which Redis bus joins the instances.
type BusKind string

// The two Redis buses.
const (
	Tracking BusKind = "tracking" // redisstore.TrackingBus
	PubSub   BusKind = "pubsub"   // redisstore.PubSubBus
)

// Config is one run.
type Config struct {
	Instances int           // at least 3
	Bus       BusKind       // the bus every instance has
	Workers   int           // goroutines calling each instance
	Duration  time.Duration // how long the load runs
	Keys      int           // the key space
	Tags      int           // the tags over it
	MaxLoad   time.Duration // a loader takes up to this after reading the source
	// Front gives every other instance (the odd ones) a decoded-object
	// front, on the instance's bus.
	Front bool
	// WaitReplicas is the stores' redisstore.Options.WaitReplicas: a
	// change returns nil only once that many replicas have it, so a
	// failover cannot lose it (for deployments with replicas).
	WaitReplicas int
	Scheduler    Scheduler // the faults
	Params       Params    // the checker's bounds
	Seed         uint64
}

// prefix is the store prefix every instance shares, as the processes of
// one service would; channel is the pub/sub bus's channel.
const (
	prefix  = "app:"
	channel = "app:invalidations"
)

// callTimeout bounds each cache call, so a hung call ends the run; the
// stall report shows it long before.
const callTimeout = 10 * time.Second

// instance is one service process: its own client, L1, L2 store, bus,
// tier and typed cache.
type instance struct {
	id     int
	client redis.UniversalClient
	bus    hitbox.Bus
	ready  func(context.Context) error
	closes []func() error // in order
	cache  *cache.Cache[Value]
}

func newInstance(t testing.TB, id int, d Deployment, cfg Config, cmds *commandLog) *instance {
	in := &instance{id: id, client: d.Client(id)}
	in.client.AddHook(hook{cmds})
	l1, err := memstore.New(memstore.Options{Label: "l1", MaxBytes: 8 << 20, Shards: 8})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := redisstore.New(in.client, redisstore.Options{Label: "l2", Prefix: prefix, WaitReplicas: cfg.WaitReplicas})
	if err != nil {
		t.Fatal(err)
	}
	bo := redisstore.BusOptions{HealthCheck: healthCheck}
	switch cfg.Bus {
	case Tracking:
		b, _ := redisstore.NewTrackingBus(in.client, prefix, bo)
		in.bus, in.ready, in.closes = b, b.Ready, append(in.closes, b.Close)
	case PubSub:
		b, _ := redisstore.NewPubSubBus(in.client, channel, bo)
		in.bus, in.ready, in.closes = b, b.Ready, append(in.closes, b.Close)
	default:
		t.Fatalf("consistency: unknown bus %q", cfg.Bus)
	}
	tr := tier.NewWith(tier.Options{
		Label:   fmt.Sprintf("i%d", id),
		Bus:     in.bus,
		Breaker: tier.Breaker{CoolDown: 500 * time.Millisecond},
	}, l1, l2)
	opts := cache.Options{TTL: time.Hour}
	if cfg.Front && id%2 == 1 {
		opts.Front = cache.Front[Value]{MaxEntries: 4 * cfg.Keys, Bus: in.bus}
	}
	in.cache = cache.New[Value](tr, opts)
	// The cache and tier unsubscribe before the bus closes; the client
	// goes last.
	in.closes = append([]func() error{in.cache.Close, tr.Close}, in.closes...)
	in.closes = append(in.closes, in.client.Close)
	return in
}

func (in *instance) close() error {
	var errs []error
	for _, c := range in.closes {
		if err := c(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run builds cfg.Instances instances over d, measures the bus's delivery
// time, runs the load for cfg.Duration while the scheduler injects faults,
// and returns the checker's report on the history.
func Run(t testing.TB, d Deployment, cfg Config) *Report {
	t.Helper()
	if cfg.Instances < 3 {
		t.Fatalf("consistency: %d instances, want at least 3", cfg.Instances)
	}
	var ins []*instance
	defer func() {
		for _, in := range ins {
			if err := in.close(); err != nil {
				t.Errorf("closing instance %d: %v", in.id, err)
			}
		}
	}()
	cmds := &commandLog{}
	for i := range cfg.Instances {
		ins = append(ins, newInstance(t, i, d, cfg, cmds))
	}
	ctx := context.Background()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	for _, in := range ins {
		if err := in.ready(rctx); err != nil {
			cancel()
			t.Fatalf("instance %d: bus not ready: %v", in.id, err)
		}
	}
	cancel()
	measured, err := measureDelivery(ctx, ins, 10)
	if err != nil {
		t.Fatal(err)
	}

	src := NewSource(cfg.Keys, cfg.Tags, cfg.MaxLoad)
	h := &History{}
	start := time.Now() // the commands of the set-up are not the run's
	lctx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	var wg sync.WaitGroup
	for _, in := range ins {
		for w := range cfg.Workers {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(in.id*1000+w)))
			wg.Go(func() { work(lctx, in, src, h, rng) })
		}
	}
	var ps []Pause
	wg.Go(func() { ps = pauses.Watch(lctx) })
	windows := cfg.Scheduler.Run(lctx, t, d, rand.New(rand.NewPCG(cfg.Seed, 1<<32)))
	wg.Wait()

	r := Check(h.Ops(), windows, cfg.Params)
	r.Measured = measured
	r.Pauses = ps
	all := cmds.times()
	slices.SortFunc(all, time.Time.Compare)
	i, _ := slices.BinarySearchFunc(all, start, time.Time.Compare)
	r.Load = r.loadByPhase(all[i:])
	return r
}

// measureDelivery writes n probe keys, each through one instance in turn,
// and returns the longest time from a write's return to its invalidation
// reaching every other instance's bus.
func measureDelivery(ctx context.Context, ins []*instance, n int) (time.Duration, error) {
	type arrival struct {
		in  int
		key string
		at  time.Time
	}
	got := make(chan arrival, 64*len(ins))
	for _, in := range ins {
		stop := in.bus.Subscribe(func(inv hitbox.Invalidation) {
			for _, k := range inv.Keys {
				select {
				case got <- arrival{in.id, k, time.Now()}:
				default:
				}
			}
		})
		defer stop()
	}
	var worst time.Duration
	for p := range n {
		key := fmt.Sprintf("probe%d", p)
		from := ins[p%len(ins)]
		if err := from.cache.Set(ctx, key, Value{Key: key}); err != nil {
			return 0, fmt.Errorf("probe write: %w", err)
		}
		acked := time.Now()
		pending := make(map[int]bool)
		for _, in := range ins {
			if in != from {
				pending[in.id] = true
			}
		}
		limit := time.NewTimer(5 * time.Second)
		for len(pending) > 0 {
			select {
			case a := <-got:
				if a.key == key && pending[a.in] {
					delete(pending, a.in)
					worst = max(worst, a.at.Sub(acked))
				}
			case <-limit.C:
				return 0, fmt.Errorf("probe %s: no invalidation on instances %v after 5s", key, slices.Sorted(maps.Keys(pending)))
			}
		}
		limit.Stop()
	}
	return worst, nil
}

// The operation mix, in parts per hundred.
var mix = []struct {
	kind Kind
	n    int
}{
	{Set, 15}, {Delete, 6}, {Purge, 4},
	{Get, 25}, {GetOrLoad, 40}, {GetOrLoadMany, 10},
}

// work calls in with random operations until ctx ends, with a short random
// pause between calls (a service's think time).
func work(ctx context.Context, in *instance, src *Source, h *History, rng *rand.Rand) {
	for sleep(ctx, time.Duration(rng.IntN(4000))*time.Microsecond) {
		n := rng.IntN(100)
		for _, m := range mix {
			if n < m.n {
				do(in, src, h, rng, m.kind)
				break
			}
			n -= m.n
		}
	}
}

// do runs one operation of kind on in and records it in h.
func do(in *instance, src *Source, h *History, rng *rand.Rand, kind Kind) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	keys := src.Keys()
	key := keys[rng.IntN(len(keys))]
	op := Op{Instance: in.id, Kind: kind, Keys: []string{key}}
	c := in.cache
	switch kind {
	case Set, Delete, Purge:
		if kind == Purge {
			tags := src.Tags()
			op.Tag = tags[rng.IntN(len(tags))]
			op.Keys = src.KeysOf(op.Tag)
		}
		unlock := src.Lock(op.Keys)
		defer unlock()
		op.Start = time.Now()
		op.Versions = src.Bump(op.Keys...)
		switch kind {
		case Set:
			op.Err = c.Set(ctx, key, Value{Key: key, Version: op.Versions[key]}, cache.WithTags(src.TagsOf(key)...))
		case Delete:
			op.Err = c.Delete(ctx, key)
		case Purge:
			op.Err = c.InvalidateTags(ctx, op.Tag)
		}
	case Get:
		actx, ans := hitbox.TrackAnswer(ctx)
		op.Start = time.Now()
		v, err := c.Get(actx, key)
		op.Err = readResult(&op, key, v, err)
		op.Unproven = ans.Unproven()
	case GetOrLoad:
		actx, ans := hitbox.TrackAnswer(ctx)
		op.Start = time.Now()
		v, err := c.GetOrLoad(actx, key, func(ctx context.Context) (Value, error) {
			m, err := src.Load(ctx, h, in.id, key)
			return m[key], err
		}, cache.WithTags(src.TagsOf(key)...))
		op.Err = readResult(&op, key, v, err)
		op.Unproven = ans.Unproven()
	case GetOrLoadMany:
		perm := rng.Perm(len(keys))[:2+rng.IntN(3)]
		op.Keys = op.Keys[:0]
		var tags []string
		for _, i := range perm {
			op.Keys = append(op.Keys, keys[i])
			for _, t := range src.TagsOf(keys[i]) {
				if !slices.Contains(tags, t) {
					tags = append(tags, t)
				}
			}
		}
		slices.Sort(op.Keys)
		// Every key of the batch carries the tags of all: more than its
		// own, so a purge drops it more often than needed, never less.
		op.Start = time.Now()
		got, err := c.GetOrLoadMany(ctx, op.Keys, func(ctx context.Context, missing []string) (map[string]Value, error) {
			return src.Load(ctx, h, in.id, missing...)
		}, cache.WithTags(tags...))
		op.Err = err
		if err == nil {
			op.Versions = make(map[string]int64, len(got))
			for k, v := range got {
				op.Versions[k] = version(k, v)
			}
		}
	}
	op.End = time.Now()
	h.Add(op)
}

// readResult records a one-key read's answer in op and returns its error:
// nil for a hit and for a miss.
func readResult(op *Op, key string, v Value, err error) error {
	if errors.Is(err, hitbox.ErrMiss) {
		return nil
	}
	if err == nil {
		op.Versions = map[string]int64{key: version(key, v)}
	}
	return err
}

// version is v's version, or -1 when v belongs to another key: the
// checker reports it as an impossible read.
func version(key string, v Value) int64 {
	if v.Key != key {
		return -1
	}
	return v.Version
}
