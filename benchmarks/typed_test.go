package benchmarks

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// The typed workloads are named Benchmark<Workload>/size=S[/batch=B]/procs=P/impl=I
// (the contract with cmd/report): procs=1 is one goroutine, a larger P is
// b.RunParallel with P goroutines.

// BenchmarkTypedHit reads Doc records that are all present, in Zipf order,
// from process memory: hitbox's decoded-object front, hitbox's Cache[Doc]
// over memstore (copy and decode on every read), go-redis/cache's TinyLFU
// local cache (decode on every read), and otter holding *Doc (the floor:
// no copy, no decode).
func BenchmarkTypedHit(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, sz := range typedSizes {
		docSuite(b, sz, typedHitContenders, []docConfig{
			{name: "procs=1", procs: 1},
			{name: "procs=" + strconv.Itoa(procs), procs: procs, par: 1},
		}, docGet)
	}
}

// BenchmarkTypedRedis reads Doc records that are all present, in Zipf
// order, from Redis: hitbox's Cache[Doc] over redisstore, the same over a
// tier of memstore and redisstore whose every read is an L2 hit that
// refills L1, go-redis/cache over Redis alone, and go-redis by hand (GET
// and decode, MGET for batches: the network floor). batch=16 reads 16
// distinct keys per operation.
func BenchmarkTypedRedis(b *testing.B) {
	procs := redisParallelism * runtime.GOMAXPROCS(0)
	par := "/procs=" + strconv.Itoa(procs)
	for _, sz := range typedSizes {
		configs := []docConfig{
			{name: "batch=1/procs=1", procs: 1, batch: 1},
			{name: "batch=1" + par, procs: procs, par: redisParallelism, batch: 1},
		}
		if sz.bytes == 1<<10 {
			configs = append(configs,
				docConfig{name: "batch=16/procs=1", procs: 1, batch: 16},
				docConfig{name: "batch=16" + par, procs: procs, par: redisParallelism, batch: 16})
		}
		docSuite(b, sz, typedRedisContenders, configs, docGet)
	}
}

// BenchmarkTypedWrite overwrites Doc records, in Zipf order, in process
// memory and Redis: hitbox's Cache[Doc] over a write-through tier of
// memstore and redisstore, go-redis/cache with TinyLFU and Redis, and
// go-redis by hand (encode and SET, Redis only: the floor).
func BenchmarkTypedWrite(b *testing.B) {
	procs := redisParallelism * runtime.GOMAXPROCS(0)
	for _, sz := range typedSizes {
		docSuite(b, sz, typedWriteContenders, []docConfig{
			{name: "procs=1", procs: 1},
			{name: "procs=" + strconv.Itoa(procs), procs: procs, par: redisParallelism},
		}, docWrite)
	}
}

// redisParallelism is the b.SetParallelism of the Redis workloads: a
// service waits on the network with many goroutines at once, not one per
// core.
const redisParallelism = 8

// docConfig is one configuration of a typed workload.
type docConfig struct {
	name  string // the sub-benchmark name's part between size and impl
	procs int    // goroutines: 1 is a plain loop
	par   int    // b.SetParallelism when procs > 1
	batch int    // keys per read; 0 or 1 is one
}

// docSuite runs bench for every configuration and contender at sz. Each
// contender is opened, filled and checked on its first sub-benchmark and
// kept for the others at the same size, so a fill is paid once per size
// (and per -count), then closed.
func docSuite(b *testing.B, sz typedSize, contenders []docContender, configs []docConfig, bench func(*testing.B, docCache, *docSet, docConfig)) {
	open := make(map[string]docCache)
	defer func() {
		for _, c := range open {
			c.close()
		}
	}()
	for _, cfg := range configs {
		for _, ct := range contenders {
			b.Run("size="+sz.name+"/"+cfg.name+"/impl="+ct.name, func(b *testing.B) {
				c, ok := open[ct.name]
				if !ok {
					c = openDocs(b, ct, sz)
					open[ct.name] = c
					runtime.GC() // no benchmark pays for the fill's garbage
				}
				bench(b, c, docs(sz), cfg)
			})
		}
	}
}

// openDocs opens ct, stores every record of the data set at sz through it,
// and returns it once every key reads back as its own record. The fill
// and the check run on fillers goroutines: against Redis they wait on
// the network, and a full run pays them once per size and -count.
func openDocs(tb testing.TB, ct docContender, sz typedSize) docCache {
	tb.Helper()
	d := docs(sz)
	c := ct.open(tb, sz)
	err := spread(len(d.keys), func(i int) error {
		if err := c.set(d.keys[i], d.docs[i]); err != nil {
			return fmt.Errorf("set %s: %w", d.keys[i], err)
		}
		return nil
	})
	if err == nil {
		err = verifyDocs(c, d)
	}
	if err != nil {
		c.close()
		tb.Fatalf("%s: %v", ct.name, err)
	}
	return c
}

// fillers is how many goroutines fill and check a contender.
const fillers = 16

// spread calls f for every index below n on fillers goroutines and
// returns the first error.
func spread(n int, f func(i int) error) error {
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range fillers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n && first.Load() == nil; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

// verifyDocs checks every key reads back as its own record, and that a
// key never written reads as a miss.
func verifyDocs(c docCache, d *docSet) error {
	err := spread(len(d.keys), func(i int) error {
		v, ok := c.get(d.keys[i])
		if !ok {
			return errors.New("miss on " + d.keys[i])
		}
		if !v.same(d.docs[i]) {
			return errors.New("wrong record under " + d.keys[i])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, ok := c.get("absent:" + d.keys[0]); ok {
		return errors.New("hit on a key never written")
	}
	return nil
}

// docGet reads present keys in Zipf order: one by one, or in batches of
// cfg.batch distinct keys. Every read must hit; misses are counted in the
// loop and fail the benchmark after it.
func docGet(b *testing.B, c docCache, d *docSet, cfg docConfig) {
	var op func(i int) int // reads at position i of the order, returns misses
	if cfg.batch > 1 {
		bc, ok := c.(docBatcher)
		if !ok {
			b.Skip("impl cannot read a batch: its API reads one key per call, one round trip each")
		}
		batches := d.batches(cfg.batch)
		op = func(i int) int {
			keys := batches[i%len(batches)]
			n, err := bc.getMany(keys)
			if err != nil {
				return len(keys)
			}
			return len(keys) - n
		}
	} else {
		op = func(i int) int {
			if _, ok := c.get(d.keys[d.order[i%zipfDraws]]); !ok {
				return 1
			}
			return 0
		}
	}
	b.ReportAllocs()
	misses := run(b, cfg, op)
	if misses > 0 {
		b.Fatalf("%d reads of present keys missed", misses)
	}
	if ch, ok := c.(docChecker); ok {
		if err := ch.check(); err != nil {
			b.Fatal(err)
		}
	}
}

// docWrite overwrites keys in Zipf order with their own records, so the
// data set stays what it was.
func docWrite(b *testing.B, c docCache, d *docSet, cfg docConfig) {
	var failure atomic.Pointer[error]
	b.ReportAllocs()
	failed := run(b, cfg, func(i int) int {
		j := d.order[i%zipfDraws]
		if err := c.set(d.keys[j], d.docs[j]); err != nil {
			failure.Store(&err)
			return 1
		}
		return 0
	})
	if failed > 0 {
		b.Fatalf("%d writes failed, the last with %v", failed, *failure.Load())
	}
}

// run times op over b.N operations, on one goroutine or cfg.procs, and
// returns the sum of what op returned. Each goroutine starts at its own
// place in the access order. It reports cpu-ns/op.
func run(b *testing.B, cfg docConfig, op func(i int) int) int {
	var bad atomic.Int64
	cpu := cpuTime()
	if cfg.procs <= 1 {
		n, i := 0, 0
		for b.Loop() {
			n += op(i)
			i++
		}
		bad.Add(int64(n))
	} else {
		b.SetParallelism(cfg.par)
		b.ResetTimer()
		cpu = cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			n, i := 0, int(start.Add(7919)%zipfDraws)
			for pb.Next() {
				n += op(i)
				i++
			}
			bad.Add(int64(n))
		})
	}
	reportCPU(b, cpu)
	return int(bad.Load())
}
