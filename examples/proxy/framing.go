package main

import (
	"bytes"
	"context"
	"iter"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// net/http reads a request that carries both Content-Length and
// Transfer-Encoding by the latter, drops Content-Length from its header
// and keeps the connection open; the handler cannot tell. Such a request
// is a sign of request smuggling, and RFC 9112 §6.1 says a server that
// answers it MUST close the connection afterwards. framingListener follows
// each connection's requests as they arrive (header, then the body by its
// framing) and notes for each whether it had both; refuseAmbiguous then
// answers a noted request 400 with Connection: close before the cache and
// the origin see it.

// framingListener wraps the accepted connections in framingConns.
type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// framingKey is the context key under which the connection's framingConn
// reaches the handler (http.Server.ConnContext).
type framingKey struct{}

// framingContext is the server's ConnContext.
func framingContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc)
	}
	return ctx
}

// refuseAmbiguous answers 400 and closes the connection for a request
// framed by both Content-Length and Transfer-Encoding. A request that
// comes after the connection's bytes stopped being followed (a refused
// Upgrade, a header past the scanner's bound) is served, and its
// connection closed after it, so no request goes unchecked for long.
func refuseAmbiguous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every request on a followed connection came through net/http's
		// HTTP/1 reader, which hands over "PRI * HTTP/2.0" with header
		// fields as an HTTP/2.0 request and reads on: its verdict is
		// popped too, or the next request would get it. (The server speaks
		// HTTP/2 only over TLS, above the framingConn.)
		fc, ok := r.Context().Value(framingKey{}).(*framingConn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		switch fc.next() {
		case framingAmbiguous:
			w.Header().Set("Connection", "close")
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "a request may not carry both Content-Length and Transfer-Encoding", http.StatusBadRequest)
			return
		case framingUnknown:
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// maxScannedHeader bounds the header a framingConn collects; past it the
// server refuses the request anyway (http.Server.MaxHeaderBytes).
const maxScannedHeader = 1<<20 + 4096

// framingConn follows the requests on one connection as the server reads
// them and queues, per request, whether its framing was ambiguous. The
// server reads from one goroutine at a time (its own, or the one that
// waits for the next request while a handler runs); the handler pops
// from another, hence the queue is one atomic word (see queue).
type framingConn struct {
	net.Conn
	bodyScan
	hdr []byte // the header so far (inHeader)

	// queue holds the verdicts read and not yet popped. An ambiguous
	// request is the last one followed (the conn loses state after it),
	// so the queue is a count of requests followed, whether the last was
	// ambiguous and whether state was lost after it; only the reading
	// goroutine writes it.
	queue  atomic.Uint64
	popped uint64 // verdicts popped: the handlers' goroutine only

	// outbound: the conn follows requests this proxy writes to the
	// origin (see codingConn), and queues for each whether it is a HEAD
	// (its response has no body) in place of verdicts.
	outbound bool
	mu       sync.Mutex // heads
	heads    []bool

	hold writeHold // a hit's writes sent in one system call (coalesce.go)
	rd   readDeadline
}

// The bits of framingConn.queue above the count of requests followed.
const (
	queueAmbiguous = 1 << 63 // the last request followed had both framings
	queueGone      = 1 << 62 // state is lost: later requests have no verdict
	queueCount     = queueGone - 1
)

func (c *framingConn) Read(p []byte) (int, error) {
	if err := c.rd.start(c.Conn); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.rd.end()
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// SetReadDeadline sets the deadline for the reads to come and any read
// under way, as net.Conn's does; see readDeadline.
func (c *framingConn) SetReadDeadline(t time.Time) error {
	return c.rd.set(c.Conn, t)
}

// setDeadline sets both deadlines (SetDeadline, in coalesce.go).
func (c *framingConn) setDeadline(t time.Time) error {
	c.rd.mu.Lock()
	defer c.rd.mu.Unlock()
	c.rd.want, c.rd.has = t, t
	return c.Conn.SetDeadline(t)
}

// readDeadline passes a connection's read deadline on to it only when a
// read needs it. net/http sets the read deadline five or six times a
// request with its header, idle and read timeouts (idle, header, whole
// request, none for the background read, the past and none again to end
// that read), each a timer change in the runtime, while the connection
// reads at most twice (the next request, the background read); most of
// those deadlines bind no read. So a deadline set while no read is under
// way is kept and given to the connection when the next read starts, and
// one set during a read is given at once, as it must bind that read.
// Every read is bound by the last deadline set before or during it,
// exactly as when each is passed on.
type readDeadline struct {
	mu      sync.Mutex
	want    time.Time // the last deadline set
	has     time.Time // the connection's deadline
	reading int       // reads under way
}

// start readies the connection for a read: it gets the deadline set, if
// it does not have it.
func (d *readDeadline) start(c net.Conn) error {
	d.mu.Lock()
	var err error
	if !d.want.Equal(d.has) {
		if err = c.SetReadDeadline(d.want); err == nil {
			d.has = d.want
		}
	}
	if err == nil {
		d.reading++
	}
	d.mu.Unlock()
	return err
}

// end notes that a read returned.
func (d *readDeadline) end() {
	d.mu.Lock()
	d.reading--
	d.mu.Unlock()
}

// set sets the deadline; the connection gets it now if a read is under
// way, else when the next starts.
func (d *readDeadline) set(c net.Conn, t time.Time) error {
	d.mu.Lock()
	d.want = t
	var err error
	if d.reading > 0 && !t.Equal(d.has) {
		if err = c.SetReadDeadline(t); err == nil {
			d.has = t
		}
	}
	d.mu.Unlock()
	return err
}

// Verdicts on a request's framing.
const (
	framingOK        = iota
	framingAmbiguous // both Content-Length and Transfer-Encoding
	framingUnknown   // read after the conn stopped following its bytes
)

// next pops the verdict of the next request the handler sees. A request
// the conn did not follow (which the server can only have read past a
// framing the conn got wrong) is framingUnknown, as after lost state.
func (c *framingConn) next() int {
	q := c.queue.Load()
	i, n := c.popped, q&queueCount
	if i >= n {
		return framingUnknown
	}
	c.popped++
	if i == n-1 && q&queueAmbiguous != 0 {
		return framingAmbiguous
	}
	return framingOK
}

// lose stops following the connection's bytes.
func (c *framingConn) lose() {
	c.state = lost
	c.queue.Store(c.queue.Load() | queueGone)
}

// verdicts lists the verdicts queued and not popped (true: ambiguous),
// and whether state was lost after them: for tests.
func (c *framingConn) verdicts() (v []bool, gone bool) {
	q := c.queue.Load()
	for i := c.popped; i < q&queueCount; i++ {
		v = append(v, i == q&queueCount-1 && q&queueAmbiguous != 0)
	}
	return v, q&queueGone != 0
}

// scan follows the bytes the server read.
func (c *framingConn) scan(p []byte) {
	for len(p) > 0 && c.state != lost {
		switch c.state {
		case inHeader:
			if len(c.hdr) == 0 && (p[0] == '\r' || p[0] == '\n') {
				p = p[1:] // empty lines before a request line (RFC 9112 §2.2)
				continue
			}
			if len(c.hdr) == 0 {
				// The common case, a header whole in this read, is
				// read where it is, without a copy.
				if end := c.header(p); end >= 0 {
					p = p[end:]
					continue
				}
			}
			i := len(c.hdr)
			c.hdr = append(c.hdr, p...)
			end := headerEnd(c.hdr, max(0, i-2))
			if end < 0 {
				if len(c.hdr) > maxScannedHeader {
					c.lose()
				}
				return
			}
			p = p[end-i:] // what follows the header in this read
			c.header(c.hdr[:end])
			c.hdr = c.hdr[:0]
		default:
			p = p[c.pass(p):]
			if c.state == lost {
				c.lose() // the server refuses what it cannot read, and closes
			}
		}
	}
}

// headerEnd is the index just after the empty line that ends the header
// in b, looking from index from, or -1. Lines may end in CRLF or, as
// net/http also accepts, a bare LF.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3
		}
	}
	return -1
}

// header reads the request header at the front of b if b holds all of
// it: it queues the request's verdict, sets how its body is framed and
// returns the header's length. Otherwise it returns -1 and changes
// nothing. One pass over the lines finds both the header's end (as
// headerEnd does) and the fields that frame the body; only a line that
// starts with c, t or u, in either case, can name one of them and is
// read closer.
func (c *framingConn) header(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1
	}
	first := bytes.TrimSuffix(b[:i], []byte("\r"))
	var f framingFields
	for i++; ; {
		rest := b[i:]
		switch {
		case len(rest) == 0:
			return -1
		case rest[0] == '\n':
			c.request(first, &f)
			return i + 1
		case rest[0] == '\r' && len(rest) > 1 && rest[1] == '\n':
			c.request(first, &f)
			return i + 2
		}
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return -1
		}
		switch rest[0] | 0x20 { // ASCII lower case
		case 'c', 't', 'u':
			f.field(bytes.TrimSuffix(rest[:j], []byte("\r")))
		}
		i += j + 1
	}
}

// framingFields is what a request header says of its body's framing.
type framingFields struct {
	cl, te, upgrade bool
	badLength       bool // a Content-Length the server refuses
	length          int64
}

// field notes a field line (without its line ending) that frames the
// body. Names are matched in ASCII only: net/http refuses a request with
// any other byte in a field name (RFC 9110 §5.1, a token), so what else
// could match (bytes.EqualFold's ſ for s) never reaches a handler.
func (f *framingFields) field(line []byte) {
	switch line[0] | 0x20 {
	case 'c':
		if v, ok := fieldValue(line, "content-length"); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil || n < 0 {
				f.badLength = true
				return
			}
			f.cl, f.length = true, n
		}
	case 't':
		_, ok := fieldValue(line, "transfer-encoding")
		f.te = f.te || ok
	case 'u':
		_, ok := fieldValue(line, "upgrade")
		f.upgrade = f.upgrade || ok
	}
}

// fieldValue returns the value in line if the field's name is name (in
// lower case) in any case.
func fieldValue(line []byte, name string) ([]byte, bool) {
	if len(line) <= len(name) || line[len(name)] != ':' {
		return nil, false
	}
	for i := range len(name) {
		b := line[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != name[i] {
			return nil, false
		}
	}
	return line[len(name)+1:], true
}

// request acts on one request's header: its first line and the fields
// that frame its body.
func (c *framingConn) request(first []byte, f *framingFields) {
	// net/http ignores Transfer-Encoding on an HTTP/1.0 request and
	// frames its body by Content-Length (or as empty).
	http10 := bytes.HasSuffix(first, []byte(" HTTP/1.0"))
	if c.outbound {
		c.mu.Lock()
		c.heads = append(c.heads, bytes.HasPrefix(first, []byte("HEAD ")))
		c.mu.Unlock()
	}
	cl, te := f.cl, f.te
	switch {
	case f.badLength:
		c.lose() // the server refuses it and closes
	case !c.outbound && bytes.HasPrefix(first, []byte("OPTIONS * ")):
		// net/http answers it itself: no handler pops a verdict.
		c.frame(cl, te && !http10, f.length)
	case cl && te:
		c.push(true)
		c.lose() // refused, and the connection closed
	case f.upgrade:
		c.push(false)
		c.lose() // what follows a switch is not HTTP/1.1
	default:
		c.push(false)
		c.frame(cl, te && !http10, f.length)
	}
}

// push queues the verdict of a request read (true: ambiguous); the
// requests this proxy writes to the origin have none.
func (c *framingConn) push(ambiguous bool) {
	if c.outbound {
		return
	}
	q := c.queue.Load() + 1
	if ambiguous {
		q |= queueAmbiguous
	}
	c.queue.Store(q)
}

// headerFields yields the name and trimmed value of each field line in
// rest, a header after its first line; a line without a colon is skipped,
// as the server and client skip or refuse it themselves.
func headerFields(rest []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(name, value []byte) bool) {
		for len(rest) > 0 {
			var l []byte
			l, rest = nextLine(rest)
			name, value, ok := bytes.Cut(l, []byte(":"))
			if ok && !yield(name, bytes.TrimSpace(value)) {
				return
			}
		}
	}
}

// nextLine splits the first line off b, without its LF or CRLF.
func nextLine(b []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest
}

// frame sets the state for a body framed as the header says.
func (c *framingConn) frame(cl, te bool, length int64) {
	switch {
	case te:
		c.chunked()
	case cl && length > 0:
		c.state, c.left = inBody, length
	default:
		c.state = inHeader
	}
}

// chunkSize parses a chunk-size line (RFC 9112 §7.1) without its line
// ending, ignoring chunk extensions; ok is false when it is malformed.
func chunkSize(line []byte) (size int64, ok bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
	return size, err == nil && size >= 0
}
