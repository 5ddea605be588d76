package netfault

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// Faults is what the proxy does to the bytes it carries. The zero value
// carries them as they come.
type Faults struct {
	// Latency delays every chunk of bytes, each way, by this much.
	Latency time.Duration
	// Bandwidth caps each direction of each connection, in bytes per
	// second; zero is no cap.
	Bandwidth int
	// ResetRate is the share (0 to 1) of the server's replies the proxy
	// cuts in the middle: it passes the first half of the chunk, then
	// resets the client's connection (RST, not FIN) and closes the
	// server's.
	ResetRate float64
	// BlackHole stops every byte either way on every connection, open or
	// new, without closing anything: a new connection is accepted (the
	// kernel completes the handshake) and then hears nothing. The bytes
	// are held, not lost, and flow again once the hole ends.
	BlackHole bool
}

// Proxy forwards connections on Addr to one upstream address, with the
// Faults last Set. Its methods are safe for concurrent use.
type Proxy struct {
	Addr string // host:port to dial instead of the server's

	upstream string
	ln       net.Listener

	mu      sync.Mutex
	faults  Faults
	changed chan struct{} // closed and replaced at every Set
	conns   map[*link]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// Start runs a proxy to upstream for t and closes it at t's cleanup.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := New(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// New runs a proxy to upstream on a free loopback port. Close stops it.
func New(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		Addr:     ln.Addr().String(),
		upstream: upstream,
		ln:       ln,
		changed:  make(chan struct{}),
		conns:    make(map[*link]struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Set replaces the faults, for open connections and new ones alike.
func (p *Proxy) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	close(p.changed)
	p.changed = make(chan struct{})
}

// current returns the faults and a channel closed at their next change.
func (p *Proxy) current() (Faults, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults, p.changed
}

// HalfOpen makes every open connection half-open: the proxy closes its
// side to the server (which sees the client leave) but tells the client
// nothing, reading and discarding what it sends and never answering, as
// when a server restarts behind a NAT or a firewall that forgot the flow.
// Connections made afterwards work.
func (p *Proxy) HalfOpen() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.halfOpen()
	}
}

// Conns returns how many client connections are open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for l := range p.conns {
		l.close(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects an accepted client to the upstream server and carries
// bytes both ways until either side ends or the proxy closes.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	l := &link{p: p, client: client, done: make(chan struct{}), gone: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		return
	}
	p.conns[l] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
	}()

	// A black hole also holds the connection to the server back.
	if !l.wait(func(f Faults) bool { return !f.BlackHole }) {
		l.close(false)
		return
	}
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		l.close(true)
		return
	}
	l.mu.Lock()
	l.server = server
	l.mu.Unlock()
	if l.isDone() { // closed while dialling
		server.Close()
		return
	}

	var wg sync.WaitGroup
	wg.Go(func() { l.pipe(client, server, false) })
	wg.Go(func() { l.pipe(server, client, true) })
	wg.Wait()
}

// link is one client connection and its server connection.
type link struct {
	p      *Proxy
	client net.Conn

	mu     sync.Mutex
	server net.Conn // nil until dialled
	done   chan struct{}
	gone   chan struct{} // closed when the link turns half-open
	state  int           // 0 open, 1 half-open, 2 closed
}

func (l *link) isDone() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// wait blocks until ok holds for the current faults, and reports false if
// the link ends first.
func (l *link) wait(ok func(Faults) bool) bool {
	for {
		f, changed := l.p.current()
		if ok(f) {
			return true
		}
		select {
		case <-changed:
		case <-l.done:
			return false
		case <-l.gone:
			return false
		}
	}
}

// close ends both connections; reset sends the client an RST instead of
// a FIN.
func (l *link) close(reset bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == 2 {
		return
	}
	l.state = 2
	close(l.done)
	if tc, ok := l.client.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	l.client.Close()
	if l.server != nil {
		l.server.Close()
	}
}

// halfOpen closes the server side and leaves the client side open and
// silent.
func (l *link) halfOpen() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != 0 {
		return
	}
	l.state = 1
	close(l.gone)
	if l.server != nil {
		l.server.Close()
	}
}

func (l *link) isHalfOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state == 1
}

// chunk is bytes read from one side, with when they were read.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe carries bytes from src to dst: one goroutine reads (so a slow or
// held writer does not stop the reading side's clock), this one writes
// each chunk once its latency has passed, at the capped rate, and only
// while no black hole is open. reply is true for the server-to-client way,
// where resets happen.
func (l *link) pipe(src, dst net.Conn, reply bool) {
	chunks := make(chan chunk, 64)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{buf[:n], time.Now()}:
				case <-l.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		// Close the link so the reader ends, then drain it. A half-open
		// link keeps its client side: the client-to-server pipe drops
		// what the client sends until the client (or the proxy) closes.
		ho := l.isHalfOpen()
		if !ho {
			l.close(false)
		}
		for range chunks {
		}
		if ho && !reply {
			l.close(false)
		}
	}()
	for c := range chunks {
		if !l.wait(func(f Faults) bool { return !f.BlackHole }) {
			return
		}
		f, _ := l.p.current()
		if d := time.Until(c.at.Add(f.Latency)); d > 0 {
			if !l.sleep(d) {
				return
			}
		}
		b := c.b
		if reply && f.ResetRate > 0 && rand.Float64() < f.ResetRate {
			_, _ = dst.Write(b[:len(b)/2])
			l.close(true)
			return
		}
		if err := l.write(dst, b, f.Bandwidth); err != nil {
			return
		}
	}
}

// sleep waits d, or reports false when the link ends first.
func (l *link) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	case <-l.gone:
		return false
	}
}

// write sends b to dst, in slices paced to bandwidth bytes per second
// when it is positive.
func (l *link) write(dst net.Conn, b []byte, bandwidth int) error {
	if l.isHalfOpen() {
		return errHalfOpen
	}
	if bandwidth <= 0 {
		_, err := dst.Write(b)
		return err
	}
	// Fifty slices a second: fine enough that a reply of a few kilobytes
	// arrives over time, coarse enough to cost little.
	step := max(1, bandwidth/50)
	for len(b) > 0 {
		// Wait first, so n bytes take n/bandwidth to arrive in full.
		n := min(step, len(b))
		if !l.sleep(time.Duration(n) * time.Second / time.Duration(bandwidth)) {
			return net.ErrClosed
		}
		if _, err := dst.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

var errHalfOpen = errors.New("netfault: link is half-open")
