package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Doc is the value the typed workloads store: a record with a few fields
// and a body of random bytes, sized so its MessagePack encoding is the
// workload's value size. Its fields carry no codec tags, so hitbox's
// codec.MsgPack(), go-redis/cache's default codec and msgpack.Marshal by
// hand all write the same bytes.
type Doc struct {
	ID   int64
	Name string
	Tags []string
	Body []byte
}

// same reports whether d and e hold the same record.
func (d *Doc) same(e *Doc) bool {
	return d.ID == e.ID && d.Name == e.Name && slices.Equal(d.Tags, e.Tags) && string(d.Body) == string(e.Body)
}

// typedSize is one value size of the typed workloads: the length of a
// Doc's MessagePack encoding, and the number of keys it is spread over.
type typedSize struct {
	name  string // sub-benchmark name: size=<name>
	bytes int
	keys  int
}

// typedSizes are the value sizes of the typed workloads. 16 KiB values
// use fewer keys so no data set passes 32 MiB (Redis holds one per
// contender while it runs).
var typedSizes = []typedSize{
	{name: "64B", bytes: 64, keys: 10_000},
	{name: "1KiB", bytes: 1 << 10, keys: 10_000},
	{name: "16KiB", bytes: 16 << 10, keys: 2_000},
}

// zipfS is the skew of the key popularity: key i is read about
// (1+i)^-1.1 as often as the hottest. math/rand's Zipf needs s > 1.
const zipfS = 1.1

// zipfDraws is the length of the precomputed access sequence; loops walk
// it and wrap around.
const zipfDraws = 1 << 16

// docSet is the data of one typed size, built once per process: the same
// keys, values and access order for every contender.
type docSet struct {
	size  typedSize
	keys  []string
	docs  []*Doc
	order []int32 // Zipf-distributed indexes into keys, fixed seed

	batched map[int][][]string // by batch size, see batches
}

var (
	docSetsMu sync.Mutex
	docSets   = map[typedSize]*docSet{}
)

// docs returns the data set of sz, building it on first use.
func docs(sz typedSize) *docSet {
	docSetsMu.Lock()
	defer docSetsMu.Unlock()
	if d, ok := docSets[sz]; ok {
		return d
	}
	rng := rand.New(rand.NewPCG(14, uint64(sz.bytes)))
	d := &docSet{size: sz, keys: make([]string, sz.keys), docs: make([]*Doc, sz.keys)}
	for i := range sz.keys {
		d.keys[i] = fmt.Sprintf("doc:%06d", i)
		d.docs[i] = newDoc(rng, i, sz.bytes)
	}
	// The hottest keys are scattered over the key space, not the first
	// ones, so no cache gains from their neighbourhood.
	perm := rng.Perm(sz.keys)
	z := rand.NewZipf(rng, zipfS, 1, uint64(sz.keys-1))
	d.order = make([]int32, zipfDraws)
	for i := range d.order {
		d.order[i] = int32(perm[z.Uint64()])
	}
	docSets[sz] = d
	return d
}

// newDoc returns record i with a body long enough for its MessagePack
// encoding to be size bytes (or the smallest record, when that is more).
func newDoc(rng *rand.Rand, i, size int) *Doc {
	d := &Doc{
		ID:   int64(i),
		Name: fmt.Sprintf("document %d", i),
		Tags: []string{"alpha", "beta"},
	}
	body := max(0, size-encodedLen(d))
	// The body's length prefix grows with it: shorten it until it fits.
	for ; body > 0; body-- {
		d.Body = make([]byte, body)
		if encodedLen(d) <= size {
			break
		}
	}
	for j := range d.Body {
		d.Body[j] = byte(rng.Uint32())
	}
	return d
}

func encodedLen(d *Doc) int {
	b, err := msgpack.Marshal(d)
	if err != nil {
		panic(err)
	}
	return len(b)
}

// batches returns the access order cut into batches of n distinct keys,
// built on first use.
func (d *docSet) batches(n int) [][]string {
	docSetsMu.Lock()
	defer docSetsMu.Unlock()
	if bs, ok := d.batched[n]; ok {
		return bs
	}
	var bs [][]string
	seen := make(map[int32]bool, n)
	cur := make([]string, 0, n)
	for _, j := range d.order {
		if seen[j] {
			continue
		}
		seen[j] = true
		if cur = append(cur, d.keys[j]); len(cur) == n {
			bs = append(bs, cur)
			cur = make([]string, 0, n)
			clear(seen)
		}
	}
	if d.batched == nil {
		d.batched = make(map[int][][]string)
	}
	d.batched[n] = bs
	return bs
}
