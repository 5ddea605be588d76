package redistest

import "syscall"

// sysProcAttr asks the kernel to kill the server if the test binary dies
// without cleaning up (a crash, a timeout panic), so no server outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
