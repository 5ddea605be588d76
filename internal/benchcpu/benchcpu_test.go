//go:build unix

package benchcpu_test

import (
	"crypto/sha256"
	"testing"

	"github.com/hitbox-go/hitbox/internal/benchcpu"
)

// TestReport checks that a benchmark that does work reports a positive
// cpu-ns/op, and one that reports no operations reports nothing.
func TestReport(t *testing.T) {
	t.Parallel()
	r := testing.Benchmark(func(b *testing.B) {
		cpu := benchcpu.Start()
		buf := make([]byte, 64<<10)
		for b.Loop() {
			sha256.Sum256(buf)
		}
		cpu.Report(b, b.N)
	})
	if got := r.Extra["cpu-ns/op"]; got <= 0 {
		t.Errorf("cpu-ns/op = %v, want above zero (extra: %v)", got, r.Extra)
	}
	r = testing.Benchmark(func(b *testing.B) {
		cpu := benchcpu.Start()
		for b.Loop() {
		}
		cpu.Report(b, 0)
	})
	if _, ok := r.Extra["cpu-ns/op"]; ok {
		t.Errorf("no operations reported cpu-ns/op: %v", r.Extra)
	}
}
