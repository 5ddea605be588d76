package bufpool

import "testing"

func TestPut(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		kept bool
	}{
		{"A buffer within MaxKept goes back to the pool, emptied.", MaxKept, true},
		{"A buffer over MaxKept is dropped, so one huge value does not pin it.", MaxKept + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Get()
			if len(*b) != 0 {
				t.Fatalf("Get returned a buffer of length %d, want 0", len(*b))
			}
			*b = append(*b, make([]byte, tc.size)...)
			grown := *b
			Put(b)
			if tc.kept && len(*b) != 0 {
				t.Errorf("a kept buffer has length %d, want 0", len(*b))
			}
			if !tc.kept && len(*b) != len(grown) {
				t.Errorf("a dropped buffer was changed to length %d", len(*b))
			}
		})
	}
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := Get()
		*p = append(*p, "a value"...)
		Put(p)
	}
}
