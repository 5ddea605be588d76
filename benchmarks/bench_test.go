package benchmarks

import (
	"bytes"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks are named op/size=S/cache=C, so benchstat can put the
// caches side by side: benchstat -col /cache new.txt.

// BenchmarkGetHit reads keys that are all present, one goroutine.
func BenchmarkGetHit(b *testing.B) {
	eachBytes(b, filled, func(b *testing.B, c subject[[]byte], d *dataset) { getLoop(b, c, d.keys, true) })
}

// BenchmarkGetMiss reads keys that were never written, one goroutine. The
// value size plays no part, so it runs at 1 KiB only.
func BenchmarkGetMiss(b *testing.B) {
	for _, ct := range byteContenders {
		leaf(b, "size="+sizes[1].name+"/cache="+ct.name, ct, sizes[1], byteKind, filled,
			func(b *testing.B, c subject[[]byte], d *dataset) { getLoop(b, c, d.absent, false) })
	}
}

// BenchmarkSet overwrites present keys, one goroutine, in a cache that
// has already taken its capacity in writes.
func BenchmarkSet(b *testing.B) {
	eachBytes(b, warmed, func(b *testing.B, c subject[[]byte], d *dataset) { setLoop(b, c, d, byteKind) })
}

// BenchmarkGetHitParallel reads present keys from every P at once.
func BenchmarkGetHitParallel(b *testing.B) {
	eachBytes(b, filled, func(b *testing.B, c subject[[]byte], d *dataset) { getParallel(b, c, d.keys) })
}

// BenchmarkSetParallel overwrites present keys from every P at once, in a
// cache that has already taken its capacity in writes.
func BenchmarkSetParallel(b *testing.B) {
	eachBytes(b, warmed, func(b *testing.B, c subject[[]byte], d *dataset) { setParallel(b, c, d, byteKind) })
}

// BenchmarkUserGet reads a User struct back: hitbox and bigcache decode it
// from CBOR, the heap caches return the pointer they were given.
func BenchmarkUserGet(b *testing.B) {
	eachUser(b, filled,
		func(b *testing.B, c subject[User], d *dataset) { getLoop(b, c, d.keys, true) },
		func(b *testing.B, c subject[*User], d *dataset) { getLoop(b, c, d.keys, true) })
}

// BenchmarkUserSet stores a User struct: hitbox and bigcache encode it to
// CBOR and copy the bytes in, the heap caches keep the pointer.
func BenchmarkUserSet(b *testing.B) {
	eachUser(b, warmed,
		func(b *testing.B, c subject[User], d *dataset) { setLoop(b, c, d, userKind) },
		func(b *testing.B, c subject[*User], d *dataset) { setLoop(b, c, d, pointerKind) })
}

// BenchmarkUserGetParallel reads User structs from every P at once.
func BenchmarkUserGetParallel(b *testing.B) {
	eachUser(b, filled,
		func(b *testing.B, c subject[User], d *dataset) { getParallel(b, c, d.keys) },
		func(b *testing.B, c subject[*User], d *dataset) { getParallel(b, c, d.keys) })
}

// --- values -----------------------------------------------------------------

// kind says which value a contender stores under keys[i], and whether a
// value read back is that one.
type kind[V any] struct {
	value func(d *dataset, i int) V
	same  func(d *dataset, i int, v V) bool
}

var (
	byteKind = kind[[]byte]{
		value: func(d *dataset, i int) []byte { return d.values[i] },
		same:  func(d *dataset, i int, v []byte) bool { return bytes.Equal(v, d.values[i]) },
	}
	userKind = kind[User]{
		value: func(d *dataset, i int) User { return *d.users[i] },
		same:  func(d *dataset, i int, v User) bool { return d.users[i].equal(&v) },
	}
	pointerKind = kind[*User]{
		value: func(d *dataset, i int) *User { return d.users[i] },
		same:  func(d *dataset, i int, v *User) bool { return d.users[i].equal(v) },
	}
)

// --- drivers ----------------------------------------------------------------

// state is what a contender goes through before it is timed.
type state int

const (
	// filled: every key written once and read back right.
	filled state = iota
	// warmed: filled, then overwritten until it has taken its byte
	// capacity in writes, so the append-only stores (bigcache, memstore)
	// have grown their queues to full size and wrap, as a long-lived
	// cache does. Write benchmarks time that steady state, not growth.
	warmed
)

// eachBytes runs bench for every byte contender at every size.
func eachBytes(b *testing.B, st state, bench func(*testing.B, subject[[]byte], *dataset)) {
	for _, sz := range sizes {
		for _, ct := range byteContenders {
			leaf(b, "size="+sz.name+"/cache="+ct.name, ct, sz, byteKind, st, bench)
		}
	}
}

// eachUser runs the User benchmarks: encoded contenders first, then the
// pointer-keeping ones.
func eachUser(b *testing.B, st state, byValue func(*testing.B, subject[User], *dataset), byPointer func(*testing.B, subject[*User], *dataset)) {
	for _, ct := range valueUsers {
		leaf(b, "cache="+ct.name, ct, userSize, userKind, st, byValue)
	}
	for _, ct := range pointerUsers {
		leaf(b, "cache="+ct.name, ct, userSize, pointerKind, st, byPointer)
	}
}

// leaf runs bench as the sub-benchmark name. The testing package calls a
// sub-benchmark's function again for each b.N that RunParallel tries and
// for each -count, so the contender is opened and brought to st on the
// first call only, kept for the others, and closed once they are done.
func leaf[V any](b *testing.B, name string, ct contender[V], sz size, k kind[V], st state, bench func(*testing.B, subject[V], *dataset)) {
	var c subject[V]
	var d *dataset
	b.Run(name, func(b *testing.B) {
		if c == nil {
			c, d = openFilled(b, ct, sz, k)
			if st == warmed {
				warmUp(b, ct.name, c, d, sz, k)
			}
			// No benchmark pays for the garbage of the setup or of the
			// benchmark before it.
			runtime.GC()
		}
		bench(b, c, d)
	})
	if c != nil {
		c.close()
	}
}

// warmUp overwrites every key in turn with its own value until capacity
// bytes of values have been written, then checks the data set is still
// all there.
func warmUp[V any](tb testing.TB, name string, c subject[V], d *dataset, sz size, k kind[V]) {
	tb.Helper()
	for n := 0; n < capacity/sz.bytes; n++ {
		i := n % len(d.keys)
		if err := c.set(d.keys[i], k.value(d, i)); err != nil && !errors.Is(err, errDropped) {
			c.close()
			tb.Fatalf("%s: warm-up set %s: %v", name, d.keys[i], err)
		}
	}
	c.settle()
	if err := verify(c, d, k); err != nil {
		c.close()
		tb.Fatalf("%s after warm-up: %v", name, err)
	}
}

// openFilled opens ct, stores every key of the data set at sz, and returns
// the cache once it answers every key with that key's value. A library
// that drops writes (ristretto) is given them again until it keeps them.
func openFilled[V any](tb testing.TB, ct contender[V], sz size, k kind[V]) (subject[V], *dataset) {
	tb.Helper()
	d := data(sz)
	c := ct.open(tb, sz)
	missing := make([]int, len(d.keys))
	for i := range missing {
		missing[i] = i
	}
	for round := 0; len(missing) > 0; round++ {
		if round == 10 {
			c.close()
			tb.Fatalf("%s kept only %d of %d keys after %d rounds of writes", ct.name, len(d.keys)-len(missing), len(d.keys), round)
		}
		for _, i := range missing {
			if err := c.set(d.keys[i], k.value(d, i)); err != nil && !errors.Is(err, errDropped) {
				c.close()
				tb.Fatalf("%s: set %s: %v", ct.name, d.keys[i], err)
			}
		}
		c.settle()
		still := missing[:0]
		for _, i := range missing {
			if _, ok := c.get(d.keys[i]); !ok {
				still = append(still, i)
			}
		}
		missing = still
	}
	if err := verify(c, d, k); err != nil {
		c.close()
		tb.Fatalf("%s: %v", ct.name, err)
	}
	return c, d
}

// verify checks that every key reads back as its own value and no absent
// key reads as anything.
func verify[V any](c subject[V], d *dataset, k kind[V]) error {
	for i, key := range d.keys {
		v, ok := c.get(key)
		if !ok {
			return errors.New("miss on " + key)
		}
		if !k.same(d, i, v) {
			return errors.New("wrong value under " + key)
		}
	}
	for _, key := range d.absent {
		if _, ok := c.get(key); ok {
			return errors.New("hit on absent key " + key)
		}
	}
	return nil
}

// getLoop reads keys in turn. Every read must hit when hit is true and
// miss otherwise; the count is checked after the timed loop.
func getLoop[V any](b *testing.B, c subject[V], keys []string, hit bool) {
	b.ReportAllocs()
	wrong, i := 0, 0
	cpu := cpuTime()
	for b.Loop() {
		if _, ok := c.get(keys[i]); ok != hit {
			wrong++
		}
		if i++; i == len(keys) {
			i = 0
		}
	}
	reportCPU(b, cpu)
	if wrong > 0 {
		b.Fatalf("%d of %d reads did not %s", wrong, b.N, map[bool]string{true: "hit", false: "miss"}[hit])
	}
}

// setLoop overwrites keys in turn with their own values, so the data set
// stays what it was. Dropped writes are reported as drops/op.
func setLoop[V any](b *testing.B, c subject[V], d *dataset, k kind[V]) {
	b.ReportAllocs()
	dropped, i := 0, 0
	var failure error
	cpu := cpuTime()
	for b.Loop() {
		if err := c.set(d.keys[i], k.value(d, i)); err != nil {
			if !errors.Is(err, errDropped) {
				failure = err
			}
			dropped++
		}
		if i++; i == len(d.keys) {
			i = 0
		}
	}
	reportCPU(b, cpu)
	c.settle()
	report(b, failure, dropped, b.N)
}

// start hands each parallel goroutine its own place to start reading, so
// they spread over the keys rather than march in step.
var start atomic.Uint64

// getParallel reads present keys from GOMAXPROCS goroutines.
func getParallel[V any](b *testing.B, c subject[V], keys []string) {
	b.ReportAllocs()
	b.ResetTimer() // the fill before is not part of a read
	var misses atomic.Int64
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		i := int(start.Add(7919) % uint64(len(keys)))
		for pb.Next() {
			if _, ok := c.get(keys[i]); !ok {
				n++
			}
			if i++; i == len(keys) {
				i = 0
			}
		}
		misses.Add(int64(n))
	})
	reportCPU(b, cpu)
	if n := misses.Load(); n > 0 {
		b.Fatalf("%d of %d reads missed", n, b.N)
	}
}

// setParallel overwrites present keys from GOMAXPROCS goroutines.
func setParallel[V any](b *testing.B, c subject[V], d *dataset, k kind[V]) {
	b.ReportAllocs()
	b.ResetTimer() // the fill before is not part of a write
	var dropped atomic.Int64
	var failure atomic.Pointer[error]
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		i := int(start.Add(7919) % uint64(len(d.keys)))
		for pb.Next() {
			if err := c.set(d.keys[i], k.value(d, i)); err != nil {
				if !errors.Is(err, errDropped) {
					failure.Store(&err)
				}
				n++
			}
			if i++; i == len(d.keys) {
				i = 0
			}
		}
		dropped.Add(int64(n))
	})
	reportCPU(b, cpu)
	c.settle()
	var err error
	if p := failure.Load(); p != nil {
		err = *p
	}
	report(b, err, int(dropped.Load()), b.N)
}

// reportCPU reports the process CPU time spent after start, per
// operation, as cpu-ns/op: on a machine other work is loading, ns/op grows
// with the time spent waiting for a core and this does not. It counts
// every thread, so for parallel benchmarks it is the CPU cost of an
// operation, not its latency.
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// report fails the benchmark on a real write error and otherwise reports
// the share of writes the library chose to drop, when there were any.
func report(b *testing.B, failure error, dropped, n int) {
	if failure != nil {
		b.Fatalf("set failed: %v", failure)
	}
	if dropped > 0 {
		b.ReportMetric(float64(dropped)/float64(n), "drops/op")
	}
}
