package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/maypok86/otter/v2"

	"github.com/hitbox-go/hitbox/store/memstore"
)

// The memory workload: how much heap a cache holding a million 1 KiB
// values takes. Each cache is filled in a process of its own (the test
// binary run again), so neither the garbage nor the freed-but-kept spans
// of one cache weigh on the next.

const (
	memoryEntries = 1_000_000
	memoryValue   = 1 << 10
	// memoryHeadroom is what the caches that must be told their size up
	// front (memstore's byte cap, bigcache's initial queues) get beyond
	// the exact bytes of the records: keys do not spread evenly over 64
	// shards, and the fullest shard must hold its share too (some 2%
	// above the mean for a million keys).
	memoryHeadroom = 1.05
	// The environment of the child process: which cache, how many entries.
	memoryChildEnv   = "HITBOX_BENCH_MEMORY_IMPL"
	memoryEntriesEnv = "HITBOX_BENCH_MEMORY_ENTRIES"
	memoryResultTag  = "hitbox-bench-memory-result "
)

// memoryImpl is one cache in the memory workload.
type memoryImpl struct {
	name string
	// open returns the cache sized to hold n entries of memoryValue bytes
	// under keyWidth-byte keys, and a check run after the fill (nil: none
	// beyond every key reading back).
	open func(n int) (subject[[]byte], func() error, error)
}

var memoryImpls = []memoryImpl{
	// memstore's cap is the records' bytes plus the headroom; its queues
	// grow by doubling up to the cap, so it ends holding about the cap.
	{"hitbox-memstore", func(n int) (subject[[]byte], func() error, error) {
		s, err := memstore.New(memstoreForMemory(n))
		if err != nil {
			return nil, nil, err
		}
		return backendBytes{s}, nil, nil
	}},
	// The decoded-object front alone, over a backend that keeps nothing:
	// the front's own cost for holding n values (here []byte, kept as
	// given, as any decoded T is).
	{"hitbox-front", func(n int) (subject[[]byte], func() error, error) {
		return newFrontBytes(discard{}, n), nil, nil
	}},
	// The front as it is used: over memstore, both holding every entry.
	// The check makes sure the reads were the front's, not memstore's.
	{"hitbox-front-over-memstore", func(n int) (subject[[]byte], func() error, error) {
		s, err := memstore.New(memstoreForMemory(n))
		if err != nil {
			return nil, nil, err
		}
		cg := &countGets{Backend: s}
		c := newFrontBytes(cg, n)
		check := func() error {
			if got := cg.gets.Load(); got > 0 {
				return fmt.Errorf("%d reads reached memstore: the front does not hold every entry", got)
			}
			if s.Len() != n {
				return fmt.Errorf("memstore holds %d entries, not %d", s.Len(), n)
			}
			return nil
		}
		return c, check, nil
	}},
	// otter bounded in entries, told its size up front (InitialCapacity,
	// which its documentation gives to avoid resizing).
	{"otter", func(n int) (subject[[]byte], func() error, error) {
		c, err := otter.New(&otter.Options[string, []byte]{MaximumSize: n, InitialCapacity: n})
		if err != nil {
			return nil, nil, err
		}
		return otterCache[[]byte]{c}, nil, nil
	}},
	// bigcache as its README sizes it: the number of entries and their
	// size told up front, so each shard's queue is allocated once (with
	// the headroom), no byte cap, memstore's 64 shards.
	{"bigcache", func(n int) (subject[[]byte], func() error, error) {
		c, err := bigcache.New(context.Background(), bigcache.Config{
			Shards:             64,
			LifeWindow:         forever,
			MaxEntriesInWindow: int(float64(n) * memoryHeadroom),
			MaxEntrySize:       18 + keyWidth + memoryValue + 2,
			Verbose:            false,
		})
		if err != nil {
			return nil, nil, err
		}
		check := func() error {
			if c.Len() != n {
				return fmt.Errorf("bigcache holds %d entries, not %d", c.Len(), n)
			}
			return nil
		}
		return bigcacheBytes{c}, check, nil
	}},
}

// memstoreForMemory is memstore capped at the bytes of n records of the
// memory workload plus the headroom, in whole MiB.
func memstoreForMemory(n int) memstore.Options {
	const mib = 1 << 20
	need := float64(n) * float64(memstoreRecord(keyWidth, memoryValue)) * memoryHeadroom
	// Admission off: the workload holds exactly n entries, and near its
	// capacity a shard that fills first would decline some of them.
	// Admission's own bytes are store/memstore's BenchmarkAdmissionMemory.
	return memstore.Options{MaxBytes: (int64(need) + mib - 1) / mib * mib, DisableAdmission: true}
}

// memoryResult is what a child process reports.
type memoryResult struct {
	Entries   int     `json:"entries"`
	HeapInuse int64   `json:"heap_inuse"` // after the fill, less the baseline
	HeapAlloc int64   `json:"heap_alloc"` // the same for live objects
	GCCPU     float64 `json:"gc_cpu_ms"`  // CPU time of one full GC with the cache live
	Error     string  `json:"error,omitempty"`
}

// BenchmarkMemory reports the heap a cache takes per entry once it holds
// a million 1 KiB values under 16-byte keys: B/entry (heap in use after
// two GCs, less the heap before the cache was made, over the entries),
// overhead-B/entry (the same less the 1,024 value bytes) and gc-cpu-ms
// (the CPU time one full GC takes with the cache live: the cost of the
// pointers a heap cache holds; noisy on a loaded machine).
//
// Each cache runs in a child process (this test binary, running
// TestMemoryChild), filled once and checked to answer every key with its
// own value. The work is done once per call, whatever b.N: run it with
// -benchtime=1x. A child takes a few seconds and up to some 2.5 GiB.
func BenchmarkMemory(b *testing.B) {
	for _, impl := range memoryImpls {
		b.Run("entries=1M/size=1KiB/impl="+impl.name, func(b *testing.B) {
			r, err := runMemoryChild(impl.name, memoryEntries)
			if err != nil {
				b.Fatal(err)
			}
			per := float64(r.HeapInuse) / float64(r.Entries)
			b.ReportMetric(per, "B/entry")
			b.ReportMetric(per-memoryValue, "overhead-B/entry")
			b.ReportMetric(r.GCCPU, "gc-cpu-ms")
		})
	}
}

// runMemoryChild runs this test binary again as TestMemoryChild for impl
// with n entries, and returns what it reports.
func runMemoryChild(impl string, n int) (memoryResult, error) {
	var r memoryResult
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryChild$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), memoryChildEnv+"="+impl, memoryEntriesEnv+"="+strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return r, fmt.Errorf("%s child: %v\n%s%s", impl, err, out, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), memoryResultTag)
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return r, fmt.Errorf("%s child: %v in %q", impl, err, line)
		}
		if r.Error != "" {
			return r, fmt.Errorf("%s: %s", impl, r.Error)
		}
		return r, nil
	}
	return r, fmt.Errorf("%s child reported nothing:\n%s%s", impl, out, stderr.Bytes())
}

// TestMemoryChild is BenchmarkMemory's child process: it skips unless
// that benchmark started it.
func TestMemoryChild(t *testing.T) {
	impl := os.Getenv(memoryChildEnv)
	if impl == "" {
		t.Skip("runs only in a process BenchmarkMemory starts")
	}
	n, err := strconv.Atoi(os.Getenv(memoryEntriesEnv))
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: not a positive count", memoryEntriesEnv, os.Getenv(memoryEntriesEnv))
	}
	r := measureMemory(impl, n)
	line, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(memoryResultTag + string(line))
}

// measureMemory fills impl with n entries and measures the heap it holds.
// Every key and value is made for the cache and kept by nobody else, so a
// cache that keeps the caller's key and slice is charged for them, as one
// that copies them is for its copies.
func measureMemory(impl string, n int) (r memoryResult) {
	r.Entries = n
	fail := func(err error) memoryResult { r.Error = err.Error(); return r }
	var mi *memoryImpl
	for i := range memoryImpls {
		if memoryImpls[i].name == impl {
			mi = &memoryImpls[i]
		}
	}
	if mi == nil {
		return fail(fmt.Errorf("no memory impl %q", impl))
	}

	before := heapAfterGC()
	c, check, err := mi.open(n)
	if err != nil {
		return fail(err)
	}
	defer c.close()
	rng := rand.New(rand.NewPCG(1, memoryValue))
	for i := range n {
		if err := c.set(streamKey(uint64(i)), memoryValueFor(rng, i)); err != nil {
			return fail(fmt.Errorf("set %d: %w", i, err))
		}
	}
	c.settle()
	after := heapAfterGC()
	r.HeapInuse = int64(after.HeapInuse) - int64(before.HeapInuse)
	r.HeapAlloc = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	start := cpuTime()
	runtime.GC()
	r.GCCPU = float64(cpuTime()-start) / float64(time.Millisecond)

	// Every entry must be there, with its own value.
	for i := range n {
		v, ok := c.get(streamKey(uint64(i)))
		if !ok {
			return fail(fmt.Errorf("entry %d of %d missing after the fill", i, n))
		}
		if len(v) != memoryValue || binary.LittleEndian.Uint32(v) != uint32(i) {
			return fail(fmt.Errorf("entry %d reads back wrong", i))
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return fail(err)
		}
	}
	runtime.KeepAlive(c)
	return r
}

// memoryValueFor returns a fresh 1 KiB value starting with i, the rest
// pseudo-random.
func memoryValueFor(rng *rand.Rand, i int) []byte {
	v := make([]byte, memoryValue)
	for j := 8; j < len(v); j += 8 {
		binary.LittleEndian.PutUint64(v[j:], rng.Uint64())
	}
	binary.LittleEndian.PutUint32(v, uint32(i))
	return v
}

// heapAfterGC collects twice (the second sweeps what the first freed)
// and returns the memory statistics.
func heapAfterGC() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
