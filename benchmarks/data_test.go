package benchmarks

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// capacity is the byte budget of every cache that can be bounded in bytes.
// It is four times the largest data set, so nothing is evicted while a
// benchmark reads.
const capacity = 256 << 20

// size is one value size the byte benchmarks run at, with the number of
// keys that size is spread over.
type size struct {
	name  string // sub-benchmark name: size=<name>
	bytes int
	keys  int
}

// sizes are the value sizes of the byte benchmarks. 64 KiB values use a
// tenth of the keys so the set stays at 64 MiB.
var sizes = []size{
	{name: "64B", bytes: 64, keys: 10_000},
	{name: "1KiB", bytes: 1 << 10, keys: 10_000},
	{name: "64KiB", bytes: 64 << 10, keys: 1_000},
}

// userSize is the size the struct benchmarks run at: its bytes field only
// sizes the caches' write buffers.
var userSize = size{name: "user", bytes: 256, keys: 10_000}

// dataset is what every contender at one size reads and writes: the same
// keys, the same values, built once.
type dataset struct {
	keys   []string // present after a fill
	absent []string // never written
	values [][]byte // values[i] goes under keys[i]
	users  []*User  // users[i] goes under keys[i]
}

var (
	datasetsMu sync.Mutex
	datasets   = map[size]*dataset{}
)

// data returns the data set for sz, building it on first use. Values are
// pseudo-random (so no cache gains from compressible bytes) and start with
// their key's index, so a value read under the wrong key is caught.
func data(sz size) *dataset {
	datasetsMu.Lock()
	defer datasetsMu.Unlock()
	if d, ok := datasets[sz]; ok {
		return d
	}
	rng := rand.New(rand.NewPCG(1, uint64(sz.bytes)))
	d := &dataset{
		keys:   make([]string, sz.keys),
		absent: make([]string, sz.keys),
		values: make([][]byte, sz.keys),
		users:  make([]*User, sz.keys),
	}
	for i := range sz.keys {
		d.keys[i] = fmt.Sprintf("user:%06d:profile", i)
		d.absent[i] = fmt.Sprintf("gone:%06d:profile", i)
		v := make([]byte, sz.bytes)
		for j := 0; j+8 <= len(v); j += 8 {
			binary.LittleEndian.PutUint64(v[j:], rng.Uint64())
		}
		binary.LittleEndian.PutUint32(v, uint32(i))
		d.values[i] = v
		d.users[i] = newUser(i)
	}
	datasets[sz] = d
	return d
}

// User is the struct the typed benchmarks store: a small record of the
// kind services cache, some 150 bytes once encoded. Its fields carry no
// codec tags: it is encoded as most callers would write it.
type User struct {
	ID      int64
	Name    string
	Email   string
	Roles   []string
	Active  bool
	Score   float64
	Created time.Time
}

func newUser(i int) *User {
	return &User{
		ID:      int64(i),
		Name:    fmt.Sprintf("User Number %d", i),
		Email:   fmt.Sprintf("user%d@example.com", i),
		Roles:   []string{"reader", "writer", "billing"},
		Active:  i%3 != 0,
		Score:   float64(i) / 7,
		Created: time.Date(2024, 1, 1, 0, 0, i%86400, 0, time.UTC),
	}
}

// equal reports whether u and v hold the same record. Times are compared
// as instants: a decoded time need not share the original's location.
func (u *User) equal(v *User) bool {
	if u == nil || v == nil {
		return u == v
	}
	if u.ID != v.ID || u.Name != v.Name || u.Email != v.Email || u.Active != v.Active ||
		u.Score != v.Score || !u.Created.Equal(v.Created) || len(u.Roles) != len(v.Roles) {
		return false
	}
	for i := range u.Roles {
		if u.Roles[i] != v.Roles[i] {
			return false
		}
	}
	return true
}
