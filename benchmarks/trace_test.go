package benchmarks

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The request streams of the hit-ratio benchmarks: Zipf over a keyspace
// of a million keys, and a public trace that a module this one already
// requires ships.

// zipf draws ranks 1..n with P(k) = k^-s / H(n,s) for any s > 0, by
// inverse CDF over precomputed weights. math/rand's Zipf takes only s > 1,
// and the skews caches are usually judged at (0.8 to 1.0) are at or below
// that.
type zipf struct {
	cdf []float64 // cdf[k-1] = P(rank <= k); the last is exactly 1
	// guide[j] is the first index whose cdf exceeds j/len(guide): a draw u
	// starts its search there, a step or two from the answer, where a
	// binary search over a million float64s would miss the CPU cache at
	// every level. The answer is the same.
	guide []int32
	rng   *rand.Rand
}

// newZipf builds the CDF once (n float64s) and seeds its own generator,
// so the same (n, s, seed) always draws the same ranks.
func newZipf(n int, s float64, seed uint64) *zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for k := 1; k <= n; k++ {
		sum += math.Pow(float64(k), -s)
		cdf[k-1] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[n-1] = 1
	guide := make([]int32, n)
	i := 0
	for j := range guide {
		for cdf[i] <= float64(j)/float64(n) {
			i++
		}
		guide[j] = int32(i)
	}
	return &zipf{cdf: cdf, guide: guide, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// next returns a rank in [1, n] for the generator's next uniform draw.
func (z *zipf) next() int { return z.rank(z.rng.Float64()) }

// rank returns the first rank whose cumulative probability exceeds u, a
// draw in [0, 1).
func (z *zipf) rank(u float64) int {
	i := int(z.guide[int(u*float64(len(z.guide)))])
	for z.cdf[i] <= u {
		i++
	}
	for i > 0 && z.cdf[i-1] > u { // u*n rounded up into the next bucket
		i--
	}
	return i + 1
}

// stream is a reproducible sequence of requests over keys: keys[ids[i]] is
// the i-th key asked for. The first warm requests fill the caches; hits are
// counted over the rest.
type stream struct {
	name string
	keys []string // fixed width, so every record of a byte cache is one size
	ids  []int32
	warm int
}

// keyWidth is the length of every key of the hit-ratio benchmarks.
const keyWidth = 16

func streamKey(id uint64) string { return fmt.Sprintf("%016x", id) }

// Zipf streams: a keyspace of zipfKeys keys, zipfWarm requests to warm up,
// then zipfMeasured requests counted.
const (
	zipfKeys     = 1_000_000
	zipfWarm     = 1_000_000
	zipfMeasured = 2_000_000
)

var (
	zipfKeyOnce sync.Once
	zipfKeySet  []string
	zipfOnce    sync.Map // skew (float64) -> func() *stream
)

// zipfKeyspace returns the million keys, built once.
func zipfKeyspace() []string {
	zipfKeyOnce.Do(func() {
		zipfKeySet = make([]string, zipfKeys)
		for i := range zipfKeySet {
			zipfKeySet[i] = streamKey(uint64(i))
		}
	})
	return zipfKeySet
}

// zipfStream returns the stream of skew s, built once per process. Ranks
// are mapped to keys through a fixed random permutation, so the popular
// keys are not neighbours in any order a cache might care about.
func zipfStream(s float64) *stream {
	f, _ := zipfOnce.LoadOrStore(s, sync.OnceValue(func() *stream {
		return newZipfStream(fmt.Sprintf("zipf%.1f", s), s, zipfKeyspace(), zipfWarm, zipfMeasured)
	}))
	return f.(func() *stream)()
}

// newZipfStream draws warm+measured requests over keys with skew s; the
// seed depends on s alone.
func newZipfStream(name string, s float64, keys []string, warm, measured int) *stream {
	seed := math.Float64bits(s)
	z := newZipf(len(keys), s, seed)
	perm := rand.New(rand.NewPCG(seed, 1)).Perm(len(keys))
	ids := make([]int32, warm+measured)
	for i := range ids {
		ids[i] = int32(perm[z.next()-1])
	}
	return &stream{name: name, keys: keys, ids: ids, warm: warm}
}

// The trace: gli, a LIRS-format trace (one block number per line) from
// the authors of LIRS, that dgraph-io/ristretto ships in its module for
// its own simulator. It is read from the module cache, where `go mod
// download` (or any build of this module) put it: nothing is copied here.
const (
	traceModule = "github.com/dgraph-io/ristretto/v2"
	traceFile   = "sim/gli.lirs.gz"
)

var traceOnce = sync.OnceValues(func() (*stream, error) {
	dir, err := moduleDir(traceModule)
	if err != nil {
		return nil, err
	}
	return readLIRS("gli", filepath.Join(dir, filepath.FromSlash(traceFile)))
})

// traceStream returns the gli stream, read once per process. The whole
// trace is counted: it has no warm-up, as trace simulators report it.
func traceStream() (*stream, error) { return traceOnce() }

// moduleDir asks the go command where a module of this build is.
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list -m %s: %v: %s", path, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded", path)
	}
	return dir, nil
}

// readLIRS reads a gzipped LIRS trace: one non-negative block number per
// line. Blank lines are skipped; anything else is an error naming the
// line.
func readLIRS(name, file string) (*stream, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	st := &stream{name: name}
	index := map[uint64]int32{}
	sc := bufio.NewScanner(zr)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		block, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a block number: %q", file, line, text)
		}
		id, ok := index[block]
		if !ok {
			id = int32(len(st.keys))
			index[block] = id
			st.keys = append(st.keys, streamKey(block))
		}
		st.ids = append(st.ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(st.ids) == 0 {
		return nil, fmt.Errorf("%s: no requests", file)
	}
	return st, nil
}
