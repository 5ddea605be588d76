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
			grown := append(*b, make([]byte, tc.size)...)
			Put(b, grown)
			switch {
			case tc.kept && (len(*b) != 0 || cap(*b) != cap(grown)):
				t.Errorf("a kept buffer has length %d and capacity %d, want 0 and %d", len(*b), cap(*b), cap(grown))
			case !tc.kept && cap(*b) == cap(grown):
				t.Errorf("a dropped buffer was changed to capacity %d", cap(*b))
			}
		})
	}
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := Get()
		Put(p, append(*p, "a value"...))
	}
}
