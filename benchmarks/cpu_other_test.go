//go:build !unix

package benchmarks

import "time"

// cpuTime is not measured here: without it cpu-ns/op is not reported.
func cpuTime() time.Duration { return 0 }
