package main

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A hit is written from memory in one go, yet net/http sends a response
// larger than its 4 KiB connection buffer in two system calls: the full
// buffer (status line, header fields, the body's start), then the rest
// written past the buffer. A C server sends both with one writev, and
// here a system call costs more than the hit's own work. So while the
// handler writes a hit, the client's connection holds a write that is
// exactly the full buffer and sends it with the next write, in one writev.
//
// The next write always comes: net/http writes a full buffer from within
// a larger write, which then either goes straight to the connection (the
// next write) or leaves at least one byte buffered, written when the
// response ends. Holding is only armed while a hit's handler runs, whose
// writes come from memory: a response streamed from the origin must not
// wait on the origin's next bytes. As a safety net, net/http's
// SetWriteDeadline once the response is done sends anything still held
// (heldAtEnd counts it, for the test of the argument above).

// netHTTPBuffer is the size of net/http's per-connection write buffer.
const netHTTPBuffer = 4 << 10

var heldBuffers = sync.Pool{New: func() any { return new([netHTTPBuffer]byte) }}

// writeHold is a connection's held write. Its fields belong to the
// goroutine serving the connection, which is the one that writes and
// arms it; Close, which another goroutine may call, does not touch them.
type writeHold struct {
	armed bool
	held  *[netHTTPBuffer]byte // a held full buffer, or nil
	bufs  [2][]byte            // the held buffer and the next write, for one writev
	iov   net.Buffers          // over bufs, so the writev allocates nothing
	// joined counts the held writes sent with the next, heldAtEnd those
	// that had to wait for the response's end (see above): for tests.
	joined, heldAtEnd atomic.Int64
}

// holdWrites arms or disarms holding (see above) for the response being
// written.
func (c *framingConn) holdWrites(on bool) { c.hold.armed = on }

func (c *framingConn) Write(p []byte) (int, error) {
	h := &c.hold
	if h.held == nil {
		if !h.armed || len(p) != netHTTPBuffer {
			return c.Conn.Write(p)
		}
		h.held = heldBuffers.Get().(*[netHTTPBuffer]byte)
		copy(h.held[:], p)
		return len(p), nil
	}
	h.bufs = [2][]byte{h.held[:], p}
	h.iov = h.bufs[:]
	n, err := h.iov.WriteTo(c.Conn) // one writev on a TCP connection
	h.bufs = [2][]byte{}            // p is not kept
	h.joined.Add(1)
	c.release()
	n -= netHTTPBuffer // what went out of p
	if n < 0 {
		n = 0
	}
	return int(n), err
}

// release returns the held buffer.
func (c *framingConn) release() {
	heldBuffers.Put(c.hold.held)
	c.hold.held = nil
	c.hold.iov = nil
}

// sendHeld writes what is held, if anything; an error shows again on the
// connection's next write.
func (c *framingConn) sendHeld() {
	if c.hold.held != nil {
		c.hold.heldAtEnd.Add(1)
		_, _ = c.Conn.Write(c.hold.held[:])
		c.release()
	}
}

// SetWriteDeadline and SetDeadline end holding: net/http calls the first
// once a response is done.
func (c *framingConn) SetWriteDeadline(t time.Time) error {
	c.hold.armed = false
	c.sendHeld()
	return c.Conn.SetWriteDeadline(t)
}

func (c *framingConn) SetDeadline(t time.Time) error {
	c.hold.armed = false
	c.sendHeld()
	return c.setDeadline(t) // the read deadline as framing.go keeps it
}
