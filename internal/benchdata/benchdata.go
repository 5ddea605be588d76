// Package benchdata holds the value sizes and keys the module's benchmarks
// share, so that a store, a tier over it and the peers they are compared
// with are measured on the same data:
//
//	for _, sz := range benchdata.Sizes {
//		b.Run("size="+sz.Name, func(b *testing.B) {
//			v := make([]byte, sz.Bytes)
//			for i := 0; b.Loop(); i++ {
//				_ = s.Set(ctx, benchdata.Key(i), hitbox.Entry{Value: v})
//			}
//		})
//	}
package benchdata

import "fmt"

// Size is a value size and the name of its size=... sub-benchmark.
type Size struct {
	Name  string
	Bytes int
}

// Sizes are the value sizes benchmarks run at, smallest first.
var Sizes = []Size{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// numKeys is how many distinct keys Key cycles through: few enough that
// every store under test holds them all at the largest size, enough that
// reads do not hit one hot key.
const numKeys = 256

var keys = func() []string {
	ks := make([]string, numKeys)
	for i := range ks {
		ks[i] = fmt.Sprintf("bench:key:%d", i)
	}
	return ks
}()

// Key returns the i-th benchmark key; it cycles through Keys, so a loop
// counter may grow past them.
func Key(i int) string { return keys[i%numKeys] }

// Keys returns every benchmark key, a fresh slice, for filling a store.
func Keys() []string { return append([]string(nil), keys...) }
