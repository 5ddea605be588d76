package consistency

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/internal/netfault"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// FaultKind is one kind of fault the scheduler injects.
type FaultKind struct {
	Name string
	What string // what it does, for the report and the docs
	// Allowance is how much later than the bus delivery bound a stale
	// read is still excused while this fault is on or settling: the time
	// a bus is allowed to take to notice it (a silent link is found by
	// the health check), or the delay the fault adds to every message.
	Allowance time.Duration
}

// healthCheck is the buses' BusOptions.HealthCheck in a run: a silent
// subscriber connection is dropped within twice this, which is the
// black hole's allowance.
const healthCheck = 250 * time.Millisecond

// latency is the delay the latency fault adds each way: under the
// clients' ReadTimeout, so calls succeed slowly, over the delivery bound.
const latency = 40 * time.Millisecond

// The fault kinds, by name. Every fault is on loopback, bounded in time,
// and healed before the run ends.
var (
	Kill = FaultKind{Name: "kill",
		What: "the server SIGKILLed, down for the hold, then restarted empty on its port"}
	Restart = FaultKind{Name: "restart",
		What: "the server stopped and restarted at once, empty"}
	Freeze = FaultKind{Name: "freeze",
		What: "the server SIGSTOPped for the hold (connections open, nothing answered), then SIGCONT"}
	Latency = FaultKind{Name: "latency", Allowance: 2 * latency,
		What: fmt.Sprintf("every instance's link to Redis delayed %v each way", latency)}
	BlackHole = FaultKind{Name: "blackhole", Allowance: 2 * healthCheck,
		What: "one instance's link to Redis swallows every byte both ways for the hold (its bus goes silent)"}
	Failover = FaultKind{Name: "failover",
		What: "a master SIGKILLed; its replica is promoted (Sentinel, or the Cluster itself)"}
)

// FaultKinds is every kind, in the order the scheduler takes them.
var FaultKinds = []FaultKind{Kill, Restart, Freeze, Latency, BlackHole, Failover}

// Deployment is the Redis under a run: how an instance connects, and the
// faults it can suffer.
type Deployment interface {
	// Name names the deployment in reports ("server", "sentinel", "cluster").
	Name() string
	// Client returns a new client for instance i, closed by the caller.
	Client(i int) redis.UniversalClient
	// Supports reports whether Inject can do k.
	Supports(k FaultKind) bool
	// Inject starts a fault of kind k and returns what it hit and the
	// function that heals it (which waits until the deployment serves
	// again).
	Inject(t testing.TB, k FaultKind, rng *rand.Rand) (target string, heal func())
}

// Single is one redis-server behind a netfault proxy per instance, so a
// network fault can hit one instance's link alone.
type Single struct {
	srv     *redistest.Server
	proxies []*netfault.Proxy
}

// NewSingle starts a server and n proxies to it, for t alone.
func NewSingle(t testing.TB, n int) *Single {
	d := &Single{srv: redistest.Start(t)}
	for range n {
		d.proxies = append(d.proxies, netfault.Start(t, d.srv.Addr))
	}
	return d
}

// Name implements Deployment.
func (d *Single) Name() string { return "server" }

// Client implements Deployment: redisstore.ClientOptions through
// instance i's proxy.
func (d *Single) Client(i int) redis.UniversalClient {
	return redis.NewClient(redisstore.ClientOptions(d.proxies[i].Addr))
}

// Supports implements Deployment: every kind but Failover.
func (d *Single) Supports(k FaultKind) bool { return k != Failover }

// Inject implements Deployment.
func (d *Single) Inject(t testing.TB, k FaultKind, rng *rand.Rand) (string, func()) {
	switch k.Name {
	case Kill.Name:
		d.srv.Kill()
		return "server", func() { d.srv.Restart(t) }
	case Restart.Name:
		d.srv.Restart(t)
		return "server", func() {}
	case Freeze.Name:
		d.srv.Pause()
		return "server", d.srv.Resume
	case Latency.Name:
		d.setAll(netfault.Faults{Latency: latency})
		return "every link", func() { d.setAll(netfault.Faults{}) }
	case BlackHole.Name:
		i := rng.IntN(len(d.proxies))
		d.proxies[i].Set(netfault.Faults{BlackHole: true})
		return fmt.Sprintf("instance %d", i), func() { d.proxies[i].Set(netfault.Faults{}) }
	}
	panic("consistency: Single cannot inject " + k.Name)
}

func (d *Single) setAll(f netfault.Faults) {
	for _, p := range d.proxies {
		p.Set(f)
	}
}

// SentinelPair is a master and a replica watched by three sentinels;
// clients follow the master through the sentinels.
type SentinelPair struct {
	s *redistest.Sentinel
}

// NewSentinel starts the pair and its sentinels, for t alone.
func NewSentinel(t testing.TB) *SentinelPair { return &SentinelPair{s: redistest.StartSentinel(t)} }

// Name implements Deployment.
func (d *SentinelPair) Name() string { return "sentinel" }

// Client implements Deployment: redisstore.ClientOptions's settings on a
// failover client.
func (d *SentinelPair) Client(int) redis.UniversalClient {
	o, b := d.s.FailoverOptions(), redisstore.ClientOptions("")
	o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = b.ReadTimeout, b.WriteTimeout, b.PoolTimeout
	o.DialTimeout, o.DialerRetries, o.MaxRetries = b.DialTimeout, b.DialerRetries, b.MaxRetries
	return redis.NewFailoverClient(o)
}

// Supports implements Deployment: Failover and Freeze of the master.
func (d *SentinelPair) Supports(k FaultKind) bool { return k == Failover || k == Freeze }

// Inject implements Deployment. A failover kills the master and heals by
// waiting for the sentinels to promote the replica, then restarting the
// old master, which the sentinels turn into the new master's replica.
func (d *SentinelPair) Inject(t testing.TB, k FaultKind, _ *rand.Rand) (string, func()) {
	master := d.master(t)
	switch k.Name {
	case Freeze.Name:
		master.Pause()
		return "master " + master.Addr, master.Resume
	case Failover.Name:
		master.Kill()
		return "master " + master.Addr, func() {
			waitFor(t, time.Minute, func() bool {
				addr, err := d.s.MasterAddr()
				return err == nil && addr != master.Addr
			})
			master.Restart(t)
		}
	}
	panic("consistency: SentinelPair cannot inject " + k.Name)
}

func (d *SentinelPair) master(t testing.TB) *redistest.Server {
	addr, err := d.s.MasterAddr()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*redistest.Server{d.s.Master, d.s.Replica} {
		if s.Addr == addr {
			return s
		}
	}
	t.Fatalf("consistency: the sentinels name %s, neither of the pair", addr)
	return nil
}

// Cluster is a Redis Cluster of three masters with a replica each.
type Cluster struct {
	c      *redistest.Cluster
	killed []string // masters failed over, not killed twice
}

// NewCluster starts the cluster, for t alone.
func NewCluster(t testing.TB) *Cluster { return &Cluster{c: redistest.StartReplicatedCluster(t)} }

// Name implements Deployment.
func (d *Cluster) Name() string { return "cluster" }

// Client implements Deployment: redisstore.ClusterClientOptions over every
// node.
func (d *Cluster) Client(int) redis.UniversalClient {
	return redis.NewClusterClient(redisstore.ClusterClientOptions(d.c.Options().Addrs...))
}

// Supports implements Deployment: Failover only.
func (d *Cluster) Supports(k FaultKind) bool { return k == Failover }

// Inject implements Deployment: it kills the master of a random key, one
// of the masters as started that was not failed over before (a promoted
// replica has no replica of its own to take over), and heals by waiting
// until its replica serves the slots.
func (d *Cluster) Inject(t testing.TB, k FaultKind, rng *rand.Rand) (string, func()) {
	if k != Failover {
		panic("consistency: Cluster cannot inject " + k.Name)
	}
	var master *redistest.Server
	for range 20 {
		m, err := d.c.MasterOf(fmt.Sprintf("k%d", rng.IntN(64)))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(d.c.Nodes, m) && !slices.Contains(d.killed, m.Addr) {
			master = m
			break
		}
	}
	if master == nil {
		t.Fatal("consistency: no master left to fail over")
	}
	d.killed = append(d.killed, master.Addr)
	master.Kill()
	return "master " + master.Addr, func() { d.c.WaitHealthy(t) }
}

// waitFor polls ok until it holds, failing t after limit.
func waitFor(t testing.TB, limit time.Duration, ok func() bool) {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("consistency: not healed after %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Scheduler injects faults one at a time: a healthy Gap, then a fault for
// Hold, then healed, in turn through Kinds, until the run's context ends
// or Max faults have run. It never leaves a fault on.
type Scheduler struct {
	Kinds []FaultKind
	Hold  time.Duration
	Gap   time.Duration
	Max   int
}

// Run injects faults into d until ctx ends (it stops starting faults when
// less than Hold+Gap is left) and returns their windows.
func (s Scheduler) Run(ctx context.Context, t testing.TB, d Deployment, rng *rand.Rand) []Window {
	var kinds []FaultKind
	for _, k := range s.Kinds {
		if d.Supports(k) {
			kinds = append(kinds, k)
		}
	}
	var out []Window
	deadline, _ := ctx.Deadline()
	for i := 0; len(kinds) > 0 && (s.Max == 0 || i < s.Max); i++ {
		if !sleep(ctx, s.Gap) || (!deadline.IsZero() && time.Until(deadline) < s.Hold+s.Gap) {
			break
		}
		k := kinds[i%len(kinds)]
		w := Window{Kind: k.Name, Start: time.Now(), Allowance: k.Allowance}
		var heal func()
		w.Target, heal = d.Inject(t, k, rng)
		sleep(context.WithoutCancel(ctx), s.Hold)
		heal()
		w.End = time.Now()
		out = append(out, w)
	}
	return out
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
