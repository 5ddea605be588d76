package netfault_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hitbox-go/hitbox/internal/netfault"
)

// Example puts faults between a client and an echo server.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() { // the server: it echoes one connection
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	upstream := ln.Addr().String()

	p, err := netfault.New(upstream) // or Start(t, upstream), closed at cleanup
	if err != nil {
		panic(err)
	}
	defer p.Close()
	p.Set(netfault.Faults{Latency: 50 * time.Millisecond})
	p.Set(netfault.Faults{BlackHole: true})
	p.Set(netfault.Faults{}) // healthy again

	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "ping")
	reply, err := bufio.NewReader(c).ReadString('\n')
	fmt.Print(reply, err, "\n")

	p.HalfOpen() // every open link loses its server side
	fmt.Println(p.Conns(), "connection, still open to the client")
	// Output:
	// ping
	// <nil>
	// 1 connection, still open to the client
}
