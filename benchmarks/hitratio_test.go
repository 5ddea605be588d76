package benchmarks

import (
	"container/list"
	"errors"
	"testing"

	"github.com/maypok86/otter/v2"
)

// hitRecord is the record size memstore is given in the hit-ratio
// workload when the cache is large enough: 419 bytes (a 359-byte value
// under a 16-byte key), so 10,000 records are 4 MiB and 100,000 are 40 MiB
// within 0.2%, where bigcache's whole-MiB cap would otherwise round the
// cache off by up to a tenth.
const hitRecord = 419

// hitSize is a cache size as a share of the stream's distinct keys.
type hitSize struct {
	name     string // sub-benchmark name: cache=<name>
	percent  int
	fraction float64
	// sweep: a size only of the sweep that draws hit ratio against cache
	// size, run for the streams and impls marked sweep alone.
	sweep bool
}

var hitSizes = []hitSize{
	{"1%", 1, 0.01, false},
	{"2%", 2, 0.02, true},
	{"5%", 5, 0.05, true},
	{"10%", 10, 0.10, false},
	{"20%", 20, 0.20, true},
}

// entries is the number of entries the cache holds for a stream of
// distinct keys.
func (h hitSize) entries(distinct int) int { return max(1, distinct*h.percent/100) }

// hitDist is one request stream.
type hitDist struct {
	name   string
	stream func() (*stream, error)
	sweep  bool // also measured at the sweep's sizes
}

var hitDists = []hitDist{
	{"zipf0.8", func() (*stream, error) { return zipfStream(0.8), nil }, true},
	{"zipf1.0", func() (*stream, error) { return zipfStream(1.0), nil }, false},
	{"gli", traceStream, true},
}

// hitImpl is one cache in the hit-ratio workload. open returns the cache
// bounded at entries (keys of keyWidth bytes) and the value to store in
// it: every entry has the same size, so a cache bounded in bytes holds as
// many as one bounded in entries.
type hitImpl struct {
	name string
	open func(tb testing.TB, entries int) (subject[[]byte], []byte)
	// sweep: also measured at the sweep's sizes. Five lines say what the
	// chart against size is for: memstore with and without admission, the
	// front, otter and ristretto.
	sweep bool
}

var hitImpls = []hitImpl{
	// memstore's cap is bytes: entries × the record size (see memstoreFor).
	{"hitbox-memstore", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		opts, value, err := memstoreFor(entries, keyWidth, hitRecord)
		if err != nil {
			tb.Fatal(err)
		}
		return backendBytes{newSizedMemstore(tb, opts)}, make([]byte, value)
	}, true},
	// The same with Options.DisableAdmission: bigcache's first in, first
	// out order alone.
	{"hitbox-memstore-noadmit", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		opts, value, err := memstoreFor(entries, keyWidth, hitRecord)
		if err != nil {
			tb.Fatal(err)
		}
		opts.DisableAdmission = true
		return backendBytes{newSizedMemstore(tb, opts)}, make([]byte, value)
	}, true},
	// The typed cache's decoded-object front (otter inside), over a
	// backend that keeps nothing, so every hit is the front's.
	{"hitbox-front", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		return newFrontBytes(discard{}, entries), make([]byte, hitRecord)
	}, true},
	{"otter", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		return otterCache[[]byte]{otter.Must(&otter.Options[string, []byte]{MaximumSize: entries})}, make([]byte, hitRecord)
	}, true},
	// ristretto as its README sizes it: ten counters per entry, a cost of
	// one per entry.
	{"ristretto", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		return ristrettoCache[[]byte]{newRistretto[[]byte](tb, entries, int64(entries)), func([]byte) int64 { return 1 }}, make([]byte, hitRecord)
	}, true},
	{"go-redis-tinylfu", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		return newTinyLFU(entries), make([]byte, hitRecord)
	}, false},
	// An exact least-recently-used cache of entries entries: the
	// reference an eviction order is usually judged against.
	{"lru", func(tb testing.TB, entries int) (subject[[]byte], []byte) {
		return newLRU(entries), make([]byte, hitRecord)
	}, false},
}

// lru is an exact least-recently-used cache, for the hit-ratio workload
// only: one goroutine, no locks.
type lru struct {
	max   int
	order *list.List // front: most recent; values are *lruEntry
	index map[string]*list.Element
}

type lruEntry struct {
	key   string
	value []byte
}

func newLRU(entries int) *lru {
	return &lru{max: entries, order: list.New(), index: make(map[string]*list.Element, entries)}
}

func (c *lru) get(key string) ([]byte, bool) {
	e, ok := c.index[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).value, true
}

func (c *lru) set(key string, value []byte) error {
	if e, ok := c.index[key]; ok {
		e.Value.(*lruEntry).value = value
		c.order.MoveToFront(e)
		return nil
	}
	if c.order.Len() >= c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.index, old.Value.(*lruEntry).key)
	}
	c.index[key] = c.order.PushFront(&lruEntry{key: key, value: value})
	return nil
}

func (c *lru) settle() {}
func (c *lru) close()  {}

// BenchmarkHitRatio measures the share of reads a cache answers, with
// admission on miss (get; on a miss, set), for caches holding 1% and 10%
// of the distinct keys of three streams, and for the sweep of hit ratio
// against cache size, 2%, 5% and 20% too for the streams and impls marked
// sweep:
//
//   - zipf0.8, zipf1.0: a million keys, Zipf with skew 0.8 and 1.0 (see
//     newZipf), a fixed seed; one million requests warm the cache, and the
//     hits of the next two million are counted.
//   - gli: the LIRS authors' gli trace (6,015 requests over 2,529 blocks)
//     that ristretto's module ships; every request counted, from cold.
//
// It reports hit% (and, for memstore, sized in bytes, the entries it held
// at the end). The work is done once per call, whatever b.N: run it with
// -benchtime=1x. The figures do not depend on the machine's load: every
// write is settled before the next request (see hitRatio).
func BenchmarkHitRatio(b *testing.B) {
	for _, size := range hitSizes {
		for _, dist := range hitDists {
			for _, impl := range hitImpls {
				if size.sweep && !(dist.sweep && impl.sweep) {
					continue
				}
				b.Run("cache="+size.name+"/dist="+dist.name+"/impl="+impl.name, func(b *testing.B) {
					st, err := dist.stream()
					if err != nil {
						b.Skip("trace cannot be read: " + err.Error())
					}
					entries := size.entries(len(st.keys))
					c, value := impl.open(b, entries)
					defer c.close()
					hits, measured, err := hitRatio(c, st, value)
					if err != nil {
						b.Fatalf("%s: %v", impl.name, err)
					}
					b.ReportMetric(100*float64(hits)/float64(measured), "hit%")
					if m, ok := c.(backendBytes); ok {
						if s, ok := m.b.(interface{ Len() int }); ok {
							b.ReportMetric(float64(s.Len()), "entries")
						}
					}
				})
			}
		}
	}
}

// hitRatio plays st against c: each request reads its key and, on a miss,
// stores value under it. It returns the hits and the requests counted
// (those after st.warm). A write the cache declines by design (ristretto's
// admission) is a write like any other here; any other error ends the run.
// Each write is settled before the next request.
func hitRatio(c subject[[]byte], st *stream, value []byte) (hits, measured int, err error) {
	for i, id := range st.ids {
		key := st.keys[id]
		if _, ok := c.get(key); ok {
			if i >= st.warm {
				hits++
			}
			continue
		}
		if err := c.set(key, value); err != nil && !errors.Is(err, errDropped) {
			return 0, 0, err
		}
		// Apply the write before the next request, as a cache keeps up
		// with requests that arrive at a server's pace: replayed back to
		// back, a cache that applies writes in the background (ristretto)
		// would drop them for want of CPU, not by its policy.
		c.settle()
	}
	return hits, len(st.ids) - st.warm, nil
}
