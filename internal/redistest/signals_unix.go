//go:build unix

package redistest

import "syscall"

// The signals that freeze and thaw a server, for Pause and Resume.
const sigStop, sigCont = syscall.SIGSTOP, syscall.SIGCONT
