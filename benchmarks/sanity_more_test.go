package benchmarks

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Quick checks of what the memory, hit-ratio and HTTP workloads rest on,
// at small sizes, so `go test ./...` here stays fast.

// TestZipf checks the generator against the distribution it claims and
// against a plain binary search over the same CDF.
func TestZipf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		why string
		n   int
		s   float64
	}{
		{"skew below one, which math/rand's Zipf cannot draw", 1000, 0.8},
		{"skew of exactly one", 1000, 1.0},
		{"a skew above one, where the tail is thin", 100, 1.3},
		{"a keyspace of one key draws it every time", 1, 0.8},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			t.Parallel()
			const draws = 200_000
			z := newZipf(c.n, c.s, 42)
			again := newZipf(c.n, c.s, 42)
			h := 0.0
			for k := 1; k <= c.n; k++ {
				h += math.Pow(float64(k), -c.s)
			}
			counts := make([]int, c.n+1)
			for range draws {
				u := z.rng.Float64()
				// The same u through the guide table and through a binary
				// search must give the same rank.
				ref := sort.Search(len(z.cdf), func(i int) bool { return z.cdf[i] > u }) + 1
				got := z.rank(u)
				if got != ref {
					t.Fatalf("u=%v: the guide table gives rank %d, the binary search %d", u, got, ref)
				}
				if a := again.next(); a != got {
					t.Fatalf("the same seed drew %d and then %d", got, a)
				}
				counts[got]++
			}
			// The hottest ranks come up in proportion to k^-s, within 5
			// standard deviations of the binomial count.
			for k := 1; k <= min(c.n, 5); k++ {
				p := math.Pow(float64(k), -c.s) / h
				want := p * draws
				sd := math.Sqrt(draws * p * (1 - p))
				if math.Abs(float64(counts[k])-want) > 5*sd+1 {
					t.Errorf("rank %d drawn %d times, want %.0f ± %.0f", k, counts[k], want, 5*sd)
				}
			}
		})
	}
}

// TestZipfStream checks a stream draws from the whole keyspace and is the
// same every time it is built.
func TestZipfStream(t *testing.T) {
	t.Parallel()
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = streamKey(uint64(i))
	}
	a := newZipfStream("a", 0.8, keys, 100, 20_000)
	b := newZipfStream("b", 0.8, keys, 100, 20_000)
	if len(a.ids) != 20_100 || a.warm != 100 {
		t.Fatalf("stream of %d requests, %d warm; want 20100, 100", len(a.ids), a.warm)
	}
	seen := map[int32]bool{}
	for i, id := range a.ids {
		if id != b.ids[i] {
			t.Fatalf("request %d: %d, then %d from the same seed", i, id, b.ids[i])
		}
		if id < 0 || int(id) >= len(keys) {
			t.Fatalf("request %d: key %d outside the keyspace", i, id)
		}
		seen[id] = true
	}
	// 20,000 draws at skew 0.8 over 5,000 keys reach well over half of them.
	if len(seen) < len(keys)/2 {
		t.Errorf("only %d of %d keys drawn", len(seen), len(keys))
	}
	if len(streamKey(math.MaxUint64)) != keyWidth || len(streamKey(0)) != keyWidth {
		t.Errorf("keys are not all %d bytes", keyWidth)
	}
}

// TestTrace reads the gli trace from ristretto's module and checks what
// is known of it.
func TestTrace(t *testing.T) {
	t.Parallel()
	st, err := traceStream()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ids) != 6015 || len(st.keys) != 2529 || st.warm != 0 {
		t.Errorf("gli: %d requests over %d keys, %d warm; want 6015 over 2529, 0 warm", len(st.ids), len(st.keys), st.warm)
	}
}

// TestReadLIRS checks the trace reader's errors, each naming the file.
func TestReadLIRS(t *testing.T) {
	t.Parallel()
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	cases := []struct {
		why      string
		file     []byte
		requests int    // when it reads
		err      string // when it does not
	}{
		{"block numbers one a line, blank lines skipped", gz("1\n2\n\n1\n"), 3, ""},
		{"a line that is not a block number names its line", gz("1\nx\n"), 0, ":2: not a block number"},
		{"a negative block is not a block number", gz("-1\n"), 0, ":1: not a block number"},
		{"a trace with no requests is refused", gz("\n\n"), 0, "no requests"},
		{"a file that is not gzip is refused", []byte("1\n2\n"), 0, "gzip"},
	}
	for i, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "t"+strconv.Itoa(i)+".gz")
			if err := os.WriteFile(file, c.file, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := readLIRS("t", file)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.err == "" && len(st.ids) != c.requests:
				t.Fatalf("%d requests, want %d", len(st.ids), c.requests)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), file)):
				t.Fatalf("error %v, want one naming the file and saying %q", err, c.err)
			}
		})
	}
}

// TestMemstoreFor checks a memstore sized for n entries holds about n of
// them and no more, at the sizes the hit-ratio workload uses.
func TestMemstoreFor(t *testing.T) {
	t.Parallel()
	for _, n := range []int{25, 253, 10_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			opts, value, err := memstoreFor(n, keyWidth, hitRecord)
			if err != nil {
				t.Fatal(err)
			}
			c := backendBytes{newSizedMemstore(t, opts)}
			defer c.close()
			v := make([]byte, value)
			for i := range 2 * n {
				if err := c.set(streamKey(uint64(i)), v); err != nil {
					t.Fatalf("set %d: %v", i, err)
				}
			}
			held := c.b.(interface{ Len() int }).Len()
			if held < n*98/100 || held > n*101/100+1 {
				t.Errorf("holds %d entries after %d writes, want about %d", held, 2*n, n)
			}
		})
	}
}

// TestHitImpls checks every hit-ratio cache round-trips and, on a small
// Zipf stream, hits sometimes and misses sometimes.
func TestHitImpls(t *testing.T) {
	t.Parallel()
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = streamKey(uint64(i))
	}
	st := newZipfStream("small", 0.8, keys, 10_000, 20_000)
	for _, impl := range hitImpls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, contender[[]byte]{impl.name, func(tb testing.TB, sz size) subject[[]byte] {
				c, _ := impl.open(tb, 2*sz.keys)
				return c
			}}, byteKind)
			c, value := impl.open(t, 1000)
			defer c.close()
			hits, measured, err := hitRatio(c, st, value)
			if err != nil {
				t.Fatal(err)
			}
			if hits == 0 || hits == measured {
				t.Errorf("%d hits of %d requests: a cache of a tenth of the keys should hit some and miss some", hits, measured)
			}
		})
	}
}

// TestMemoryImpls fills every memory-workload cache with a few thousand
// 1 KiB entries, in this process, and runs the checks BenchmarkMemory's
// children run; then it runs one child process, as the benchmark does.
func TestMemoryImpls(t *testing.T) {
	for _, impl := range memoryImpls {
		t.Run(impl.name, func(t *testing.T) {
			if r := measureMemory(impl.name, 2000); r.Error != "" {
				t.Fatal(r.Error)
			}
		})
	}
	t.Run("child process", func(t *testing.T) {
		r, err := runMemoryChild("otter", 2000)
		if err != nil {
			t.Fatal(err)
		}
		// 2,000 values of 1 KiB are 2 MB whatever else the heap holds.
		if r.Entries != 2000 || r.HeapInuse < 2000*memoryValue {
			t.Errorf("child reported %d entries in %d bytes", r.Entries, r.HeapInuse)
		}
	})
	t.Run("an unknown cache is an error, not a panic", func(t *testing.T) {
		if r := measureMemory("no-such-cache", 10); !strings.Contains(r.Error, "no-such-cache") {
			t.Errorf("error %q", r.Error)
		}
	})
}

// TestHTTPTargets checks every server of the HTTP workloads: a cached
// target answers the second GET of the cached route without the handler
// and a bare one runs the handler every time; the slow route reaches the
// handler on every request, through every middleware.
func TestHTTPTargets(t *testing.T) {
	t.Parallel()
	for _, impl := range httpImpls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			if impl.skip != "" {
				t.Skip(impl.skip)
			}
			tg := impl.open(t)
			defer tg.close()
			var buf bytes.Buffer
			for i := range 3 {
				if err := get(tg.client, tg.base+itemPath, &buf); err != nil {
					t.Fatalf("GET %d: %v", i, err)
				}
			}
			want := int64(3)
			if tg.cached {
				want = 1
			}
			if got := tg.origin.calls.Load(); got != want {
				t.Errorf("the handler ran %d times for 3 GETs of %s, want %d", got, itemPath, want)
			}
			before := tg.origin.calls.Load()
			for i := range 3 {
				if err := get(tg.client, tg.base+slowPath+"?n="+strconv.Itoa(i), &buf); err != nil {
					t.Fatalf("GET slow %d: %v", i, err)
				}
			}
			if got := tg.origin.calls.Load() - before; got != 3 {
				t.Errorf("the slow handler ran %d times for 3 GETs, want 3", got)
			}
		})
	}
}
