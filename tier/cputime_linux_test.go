package tier

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports, beside wall time, the CPU time the benchmark's own
// thread spent per operation: on a machine shared with other work, wall
// time counts the moments the thread waited for a core, CPU time does not.
type cpuTimer struct{ start time.Duration }

func startCPU(b *testing.B) *cpuTimer {
	b.Helper()
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return &cpuTimer{start: threadCPU()}
}

func (c *cpuTimer) report(b *testing.B, ops int) {
	if ops > 0 {
		b.ReportMetric(float64(threadCPU()-c.start)/float64(ops), "cpu-ns/op")
	}
}

func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
