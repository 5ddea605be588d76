package reliability_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/internal/netfault"
	"github.com/hitbox-go/hitbox/internal/pauses"
	"github.com/hitbox-go/hitbox/internal/redistest"
)

// SoakEnv names the environment variable that runs TestSoak, for as long
// as it says (a Go duration such as 10m). The default test command leaves
// it unset.
const soakEnv = "HITBOX_SOAK"

// sample is one second's reading of the process.
type sample struct {
	at         time.Duration // since the start
	liveHeap   uint64        // bytes live after the last GC
	goroutines int
	conns      int // client connections open through the proxy
	fds        int // open file descriptors of the process
}

// TestSoak runs the mixed load for HITBOX_SOAK through two instances that
// share a tracking bus, over a proxy, while faults take turns: every
// phase is a few seconds of one of latency, a bandwidth cap, resets, a
// black hole, half-open links, a full server (noeviction) or a killed and
// restarted server, then as long healthy. Every second it samples the live
// heap, goroutines, connections and file descriptors, and at the end it
// logs them a minute at a time and checks that the last minute is no
// bigger than the first beyond a margin: what grows without bound is a
// leak. No read may fail or be wrong, as in the other tests.
func TestSoak(t *testing.T) {
	spec := os.Getenv(soakEnv)
	if spec == "" {
		t.Skipf("set %s=10m to soak", soakEnv)
	}
	length, err := time.ParseDuration(spec)
	if err != nil || length < time.Minute {
		t.Fatalf("%s=%q: want a duration of a minute or more", soakEnv, spec)
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := srv.Client(t)
	p := netfault.Start(t, srv.Addr)

	var ins []*instance
	for i := range 2 {
		client := redis.NewClient(clientOptions(p.Addr))
		ins = append(ins, newInstance(t, fmt.Sprintf("app%d", i), client, true, time.Second))
	}
	defer func() {
		for _, in := range ins {
			_ = in.Close()
		}
	}()
	src := newSource(1 << 10)
	l := startLoad(t, src, ins, keys(t, 2000), 6)
	// The process's own pauses, to tell a slow call the cache made from
	// one the machine made by not running the process.
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan []pauses.Pause, 1)
	go func() { watched <- pauses.Watch(wctx) }()

	type phase struct {
		name       string
		start, end func()
	}
	healthy := func() { p.Set(netfault.Faults{}) }
	setMem := func(max, policy string) func() {
		return func() {
			_ = admin.ConfigSet(ctx, "maxmemory-policy", policy).Err()
			_ = admin.ConfigSet(ctx, "maxmemory", max).Err()
		}
	}
	phases := []phase{
		{"latency", func() { p.Set(netfault.Faults{Latency: 100 * time.Millisecond}) }, healthy},
		{"bandwidth", func() { p.Set(netfault.Faults{Bandwidth: 16 << 10}) }, healthy},
		{"resets", func() { p.Set(netfault.Faults{ResetRate: 0.3}) }, healthy},
		{"black hole", func() { p.Set(netfault.Faults{BlackHole: true}) }, healthy},
		{"half-open", p.HalfOpen, func() {}},
		{"full server", setMem("1", "noeviction"), setMem("0", "noeviction")},
		{"server killed", srv.Kill, func() { srv.Restart(t) }},
	}

	var samples []sample
	var events []string
	// The worst stalls by phase, over every time the phase came round;
	// "healthy" is the time between faults, recovery included.
	worstBy := map[string][2]time.Duration{}
	noteWorst := func(name string) {
		w := worstBy[name]
		w[0] = max(w[0], time.Duration(l.worstRead.Load()))
		w[1] = max(w[1], time.Duration(l.worstWrite.Load()))
		worstBy[name] = w
		l.resetWorst()
	}
	lm := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	const faultFor, healthyFor = 5, 10 // seconds
	next := 0
	for sec := 1; time.Since(start) < length; sec++ {
		<-tick.C
		metrics.Read(lm)
		samples = append(samples, sample{
			at:         time.Since(start).Round(time.Second),
			liveHeap:   lm[0].Value.Uint64(),
			goroutines: runtime.NumGoroutine(),
			conns:      p.Conns(),
			fds:        openFDs(),
		})
		switch sec % (faultFor + healthyFor) {
		case 0:
			noteWorst("healthy")
			ph := phases[next%len(phases)]
			events = append(events, fmt.Sprintf("%v %s", time.Since(start).Round(time.Second), ph.name))
			ph.start()
		case faultFor:
			ph := phases[next%len(phases)]
			ph.end()
			noteWorst(ph.name) // the fault's window
			next++
		}
	}
	l.Stop()
	stopWatch()
	ps := <-watched
	noteWorst("healthy")
	var paused time.Duration
	for _, p := range ps {
		paused += p.Late
	}
	t.Logf("the process itself paused %d times over %v (%v in all)", len(ps), pauses.Min, paused.Round(time.Millisecond))
	l.mu.Lock()
	if len(l.slow) > 0 {
		var lines []string
		for _, s := range l.slow {
			in, sum := pauses.During(ps, s.start, s.start.Add(s.d))
			lines = append(lines, fmt.Sprintf("%s took %v from %v; the process was paused %v of it (%d pauses)",
				s.op, s.d.Round(time.Millisecond), s.start.Sub(start).Round(time.Millisecond), sum.Round(time.Millisecond), len(in)))
		}
		t.Logf("calls over %v (at: since the soak's start):\n%s\nphases:\n%s", slowCall, strings.Join(lines, "\n"), strings.Join(events, "\n"))
	}
	l.mu.Unlock()
	names := []string{"healthy"}
	for _, ph := range phases {
		names = append(names, ph.name)
	}
	for _, name := range names {
		w := worstBy[name]
		t.Logf("worst read %-13s %v, worst write %v", name+":", w[0].Round(time.Millisecond), w[1].Round(time.Millisecond))
	}
	t.Logf("load: %s", l)
	opens, errs, skipped, hits, _ := l2Stats(ins)
	t.Logf("L2: %d hits, %d errors, breaker opened %d times, %d calls skipped; %d fault phases", hits, errs, opens, skipped, len(events))
	l.checkReads(t)

	// A minute at a time: the largest reading of each figure.
	t.Logf("%8s %12s %11s %6s %5s", "minute", "live heap", "goroutines", "conns", "fds")
	var firstMax, lastMax sample
	for m := 0; m*60 < len(samples); m++ {
		var mx sample
		for _, s := range samples[m*60 : min(len(samples), (m+1)*60)] {
			mx.liveHeap = max(mx.liveHeap, s.liveHeap)
			mx.goroutines = max(mx.goroutines, s.goroutines)
			mx.conns = max(mx.conns, s.conns)
			mx.fds = max(mx.fds, s.fds)
		}
		t.Logf("%8d %10.1fMB %11d %6d %5d", m+1, float64(mx.liveHeap)/(1<<20), mx.goroutines, mx.conns, mx.fds)
		if m == 0 {
			firstMax = mx
		}
		lastMax = mx
	}
	// The margins absorb a fault phase that happens to fall in the last
	// minute (a phase opens connections and starts goroutines, then they
	// go); a leak grows past them over ten minutes.
	if lastMax.liveHeap > 2*firstMax.liveHeap+32<<20 ||
		lastMax.goroutines > 2*firstMax.goroutines+100 ||
		lastMax.conns > 2*firstMax.conns+50 ||
		lastMax.fds > 2*firstMax.fds+50 {
		t.Errorf("the last minute's figures %+v outgrew the first minute's %+v", lastMax, firstMax)
	}
}

// openFDs counts the process's open file descriptors, or returns -1 where
// /proc is not there.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
