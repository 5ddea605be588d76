//go:build unix

package main

import (
	"net"
	"syscall"
)

// canPeek says idlePeek can look at a socket here.
const canPeek = true

// idlePeek returns a func that reports whether nc, a kept connection to
// the origin, is still open with no bytes waiting in the kernel: one
// recv(MSG_PEEK|MSG_DONTWAIT) that finds nothing to read. It returns nil
// when nc is no socket it can reach (through NetConn methods).
func idlePeek(nc net.Conn) func() bool {
	for {
		if sc, ok := nc.(syscall.Conn); ok {
			raw, err := sc.SyscallConn()
			if err != nil {
				return nil
			}
			p := &peeker{raw: raw}
			p.fn = p.peek // made once: a method value per call would allocate
			return p.clean
		}
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		nc = u.NetConn()
	}
}

// peeker looks at one socket.
type peeker struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	buf [1]byte
	n   int
	err error
}

func (p *peeker) peek(fd uintptr) bool {
	p.n, _, p.err = syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return true // never wait for bytes
}

// clean: nothing to read yet (EAGAIN). A byte waiting, the origin's
// close (a read of 0) or an error all mean the connection is not used.
func (p *peeker) clean() bool {
	if err := p.raw.Read(p.fn); err != nil {
		return false
	}
	return p.err == syscall.EAGAIN || p.err == syscall.EWOULDBLOCK
}
