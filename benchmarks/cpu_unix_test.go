//go:build unix

package benchmarks

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the whole process has used so far, on every
// thread, the garbage collector's included. Unlike the wall clock it does
// not grow while other processes hold the cores, so the figures it gives
// hold up on a busy machine.
//
// It measures what internal/benchcpu in the hitbox module measures, which
// this module may not import (Go keeps another module's internal packages
// to it): keep the two the same, so that cpu-ns/op here and in the
// library's own benchmarks compare.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
