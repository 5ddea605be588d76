// Package netfault is a TCP proxy on loopback that puts network faults
// between a client and a server, for tests: added latency, a bandwidth cap,
// connections reset in the middle of a reply, a black hole (nothing moves,
// nothing is closed) and half-open links (the server side gone, the client
// side left silent). Faults change while connections are open, so a test
// can turn one on under load and off again:
//
//	p, err := netfault.New(upstream) // or Start(t, upstream), closed at cleanup
//	if err != nil {
//		panic(err)
//	}
//	defer p.Close()
//	p.Set(netfault.Faults{Latency: 50 * time.Millisecond})
//	p.Set(netfault.Faults{BlackHole: true})
//	p.Set(netfault.Faults{}) // healthy again
//
// Clients dial p.Addr instead of the server's address. HalfOpen cuts the
// server side of every open connection at once; the package's Example
// shows it.
//
// The proxy never drops or reorders bytes inside a connection, as TCP
// never does: a black hole holds them back (they flow again when it ends,
// as after a retransmission), and a reset ends the connection.
package netfault
