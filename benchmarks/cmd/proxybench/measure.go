package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// sample is one measured run of one workload on one server.
type sample struct {
	rps, perCPU float64
	p50, p99    time.Duration
	requests    int64
	errors      int64
	cpu         time.Duration
	originDelta int64 // origin requests during the run
	load        float64
	notAllHits  bool
	nonOK       int64
	elapsed     time.Duration
}

// measure runs gen against s for cfg.dur and reads the CPU time the
// server's processes used meanwhile.
func measure(ctx context.Context, gen loadGen, s *server, o *origin, w workload, cfg config) (sample, error) {
	urls := w.urlList(s.addr)
	if w.hit {
		o.settle(ctx)
	}
	before := o.n.Load()
	cpu0, err := treeCPU(s.pid)
	if err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	lr, err := gen.run(ctx, urls, cfg.conns, cfg.dur)
	elapsed := time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	cpu1, err := treeCPU(s.pid)
	if err != nil {
		return sample{}, err
	}
	sm := sample{
		requests: lr.requests, errors: lr.errors, nonOK: lr.nonOK,
		p50: lr.p50, p99: lr.p99, rps: lr.rps,
		cpu: cpu1 - cpu0, originDelta: o.n.Load() - before, load: loadAvg(), elapsed: elapsed,
	}
	if sm.cpu > 0 {
		sm.perCPU = float64(sm.requests) / sm.cpu.Seconds()
	}
	if w.hit && sm.originDelta != 0 {
		sm.notAllHits = true
	}
	if lr.errors > 0 || lr.nonOK > 0 {
		return sm, fmt.Errorf("%d socket errors, %d non-2xx responses", lr.errors, lr.nonOK)
	}
	return sm, nil
}

// clockTick is USER_HZ: /proc reports CPU times in these units. Linux
// fixes it at 100 on every architecture Go runs on.
const clockTick = 100

// treeCPU sums utime+stime of pid and every process descending from it
// (all of each one's threads: /proc/PID/stat counts them).
func treeCPU(pid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type st struct {
		ppid  int
		ticks int64
	}
	procs := map[int]st{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, ticks, err := readStat(p)
		if err != nil {
			continue // gone meanwhile
		}
		procs[p] = st{ppid, ticks}
	}
	root, ok := procs[pid]
	if !ok {
		return 0, fmt.Errorf("process %d is gone", pid)
	}
	total := root.ticks
	// Descendants: repeat until no new one is found (trees are shallow).
	in := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, s := range procs {
			if !in[p] && in[s.ppid] {
				in[p] = true
				total += s.ticks
				changed = true
			}
		}
	}
	return time.Duration(total) * time.Second / clockTick, nil
}

// readStat reads the parent and utime+stime of a process from
// /proc/PID/stat, whose second field (the command) may hold spaces.
func readStat(pid int) (ppid int, ticks int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("bad stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short stat")
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ut + stt, nil
}

// loadAvg is the one-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// settle waits, up to three seconds, until the origin's request count has
// stood still for 200 ms: requests still in flight from an earlier
// pass-through load (its load generator stops with requests on their way
// to the origin) must not count against the next hit round.
func (o *origin) settle(ctx context.Context) {
	deadline := time.Now().Add(3 * time.Second)
	last := o.n.Load()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		n := o.n.Load()
		if n == last {
			return
		}
		last = n
	}
}
