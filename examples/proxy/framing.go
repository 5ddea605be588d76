package main

import (
	"bytes"
	"context"
	"iter"
	"net"
	"net/http"
	"strconv"
	"sync"
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
		fc, ok := r.Context().Value(framingKey{}).(*framingConn)
		if !ok || r.ProtoMajor != 1 {
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
// server reads from one goroutine at a time; the handler pops from
// another, hence the mutex on the queue.
type framingConn struct {
	net.Conn
	bodyScan
	hdr []byte // the header so far (inHeader)

	mu      sync.Mutex
	verdict []bool
	gone    bool // state is lost: later requests have no verdict

	// outbound: the conn follows requests this proxy writes to the
	// origin (see codingConn), and queues for each whether it is a HEAD
	// (its response has no body) in place of verdicts.
	outbound bool
	heads    []bool

	hold writeHold // a hit's writes sent in one system call (coalesce.go)
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// Verdicts on a request's framing.
const (
	framingOK        = iota
	framingAmbiguous // both Content-Length and Transfer-Encoding
	framingUnknown   // read after the conn stopped following its bytes
)

// next pops the verdict of the next request the handler sees.
func (c *framingConn) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(c.verdict) > 0:
		v := c.verdict[0]
		c.verdict = c.verdict[1:]
		if v {
			return framingAmbiguous
		}
		return framingOK
	case c.gone:
		return framingUnknown
	}
	return framingOK
}

// lose stops following the connection's bytes.
func (c *framingConn) lose() {
	c.state = lost
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
}

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
				if end := headerEnd(p, 0); end >= 0 {
					c.header(p[:end])
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

// header reads one request's header, queues its verdict and sets how
// its body is framed.
func (c *framingConn) header(h []byte) {
	first, rest := nextLine(h)
	// net/http ignores Transfer-Encoding on an HTTP/1.0 request and
	// frames its body by Content-Length (or as empty).
	http10 := bytes.HasSuffix(first, []byte(" HTTP/1.0"))
	if c.outbound {
		c.mu.Lock()
		c.heads = append(c.heads, bytes.HasPrefix(first, []byte("HEAD ")))
		c.mu.Unlock()
	}
	var cl, te, upgrade bool
	var length int64
	for name, value := range headerFields(rest) {
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				c.lose() // the server refuses it and closes
				return
			}
			cl, length = true, n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			te = true
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = true
		}
	}
	if bytes.HasPrefix(first, []byte("OPTIONS * ")) && !c.outbound {
		// net/http answers it itself: no handler pops a verdict.
		c.frame(cl, te && !http10, length)
		return
	}
	if !c.outbound {
		c.mu.Lock()
		c.verdict = append(c.verdict, cl && te)
		c.mu.Unlock()
	}
	switch {
	case cl && te:
		c.lose() // refused, and the connection closed
	case upgrade:
		c.lose() // what follows a switch is not HTTP/1.1
	default:
		c.frame(cl, te && !http10, length)
	}
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
