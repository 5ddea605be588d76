//go:build !unix

package redistest

import "syscall"

// Without job-control signals Pause and Resume cannot freeze a server; the
// signal they send is refused and ignored. redis-server runs on Unix-like
// systems only, where the Redis tests run.
const sigStop, sigCont = syscall.Signal(-1), syscall.Signal(-1)
