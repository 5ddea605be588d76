//go:build !linux

package redistest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; Main and the test
// cleanups stop the servers.
func sysProcAttr() *syscall.SysProcAttr { return nil }
