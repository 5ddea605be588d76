// Package benchcpu reports, beside a benchmark's ns/op, the CPU time it
// cost per operation as the cpu-ns/op metric:
//
//	func BenchmarkGet(b *testing.B) {
//		cpu := benchcpu.Start()
//		for b.Loop() {
//			// one operation
//		}
//		cpu.Report(b, b.N)
//	}
//
// On a machine shared with other work, ns/op grows with the time the
// benchmark waits for a core; cpu-ns/op does not, so its figures hold up
// on a busy machine.
//
// The time measured is the whole process's, user and system, on every
// thread (getrusage RUSAGE_SELF): the garbage collector, background
// refills and other goroutines the operation starts are part of what a
// user pays for it, and a benchmark that measured only its own thread
// would leave them out. For a parallel benchmark it is the CPU cost of an
// operation, not its latency. Every package's benchmarks use this one
// measure so that their cpu-ns/op figures compare; the benchmarks module,
// which may not import this package, keeps a copy that measures the same.
//
// Where the process CPU time is not available (outside unix), nothing is
// reported.
package benchcpu

import (
	"testing"
	"time"
)

// Timer is a measure begun by Start.
type Timer struct {
	start time.Duration
	ok    bool
}

// Start begins a measure: the process CPU time used so far.
func Start() Timer {
	d, ok := processCPU()
	return Timer{start: d, ok: ok}
}

// Report reports the process CPU time used since Start, divided by ops, as
// cpu-ns/op. It reports nothing when ops is not positive or the time is
// not available.
func (t Timer) Report(b *testing.B, ops int) {
	b.Helper()
	if !t.ok || ops <= 0 {
		return
	}
	if now, ok := processCPU(); ok {
		b.ReportMetric(float64(now-t.start)/float64(ops), "cpu-ns/op")
	}
}
