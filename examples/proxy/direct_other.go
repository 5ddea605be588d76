//go:build !unix

package main

import "net"

// canPeek says idlePeek can look at a socket here: not on this system,
// so the proxy leaves every request to net/http's transport, whose
// reader watches idle connections.
const canPeek = false

func idlePeek(net.Conn) func() bool { return nil }
