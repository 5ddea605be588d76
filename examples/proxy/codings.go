package main

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// net/http's client takes exactly one transfer coding in a response,
// chunked, and fails the whole exchange on any other: an origin that
// answers "Transfer-Encoding: gzip, chunked" (RFC 9112 §6.1, §7) would
// reach the client as a 502. Transfer codings belong to one hop (RFC
// 9112 §6.1, RFC 9110 §7.6.1): this proxy removes them, as it may, and
// forwards and stores the content itself. codingConn wraps each
// connection to the origin, follows the responses on it, and rewrites
// the framing fields of one that has codings net/http does not take but
// this proxy can remove (gzip, x-gzip and deflate, each before a final
// chunked or with the message ending at the close): net/http then sees
// chunked, or a body that runs to the close, and a field naming the
// codings left, which decodeTransfer removes from the body. A coding the
// proxy cannot remove (compress, an unregistered name, chunked other
// than last) is left for net/http to refuse: the content cannot be
// forwarded as it is meant to be read, and the client gets a 502.

// codingField carries the codings left to remove from the conn to
// decodeTransfer. An origin's own field of that name is dropped.
const codingField = "Hitbox-Transfer-Coding"

// codingConn is a connection to the origin. Its writes are followed (a
// framingConn, outbound) to know which responses answer a HEAD; its
// reads are followed response by response, and a header is held until
// it is whole so that it can be rewritten.
type codingConn struct {
	net.Conn
	req framingConn // the requests written, for their methods

	bodyScan        // the responses' bodies; lost: passing everything on (a body to the close, a switch)
	hdr      []byte // the header so far (inHeader)
	out      []byte // bytes held back (a rewritten header, what followed it) not yet returned
	outAt    int    // how much of out has been returned
	rerr     error  // a read error held back behind out
	wmu      sync.Mutex
}

// dialCoding wraps dial's connections in codingConns.
func dialCoding(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := &codingConn{Conn: c}
		cc.req.outbound = true
		return cc, nil
	}
}

// NetConn returns the connection under c, for directTransport's look at
// its socket.
func (c *codingConn) NetConn() net.Conn { return c.Conn }

// held reports whether c holds bytes read from the origin that no reader
// took yet: on a connection between requests, bytes no request asked for.
func (c *codingConn) held() bool {
	return c.outAt < len(c.out) || c.rerr != nil || len(c.hdr) > 0
}

// Write follows the request bytes before they leave, so the request is
// queued before its response can arrive.
func (c *codingConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	c.req.scan(p)
	c.wmu.Unlock()
	return c.Conn.Write(p)
}

// Read returns the response bytes, a held header once it is whole (and
// rewritten when it must be). A read error that came with bytes held
// back is returned after them.
func (c *codingConn) Read(p []byte) (int, error) {
	for {
		if c.outAt < len(c.out) {
			n := copy(p, c.out[c.outAt:])
			c.outAt += n
			if c.outAt == len(c.out) {
				c.out, c.outAt = c.out[:0], 0 // its memory serves the next hold
			}
			return n, nil
		}
		if err := c.rerr; err != nil {
			c.rerr = nil
			return 0, err
		}
		n, err := c.Conn.Read(p)
		if n > 0 && c.state != lost {
			// What follow could not return as it is comes back through out.
			n = c.follow(p[:n])
		}
		if n > 0 || len(c.out) == 0 && err != nil {
			if n > 0 && err != nil {
				c.rerr, err = err, nil
			}
			return n, err
		}
		c.rerr = err
	}
}

// follow follows the response bytes in p and returns how many at its
// front go to the reader as they are: body bytes, and whole headers that
// need no rewriting, which is every header in the common case. From a
// header that is not whole in p, or that must be rewritten, on, the bytes
// are held (hold) and come back through out.
func (c *codingConn) follow(p []byte) int {
	if len(c.hdr) > 0 {
		c.hold(p) // the rest of a header begun in an earlier read
		return 0
	}
	i := 0
	for i < len(p) {
		if c.state != inHeader {
			i += c.pass(p[i:])
			continue
		}
		if p[i] == '\r' || p[i] == '\n' {
			i++ // before a header, as hold passes them
			continue
		}
		q := p[i:]
		end := -1
		if bytes.HasPrefix(q, []byte("HTTP/")) {
			end = headerEnd(q, 0)
		}
		if end < 0 {
			c.hold(q) // not whole here, or not a response: hold decides
			return i
		}
		if codings, rewrite, removable := c.frame(q[:end]); rewrite {
			c.out = rewriteHeader(c.out, q[:end], codings, removable)
			c.hold(q[end:])
			return i
		}
		i += end
	}
	return i
}

// hold collects header bytes; a whole header goes to out, and what
// follows it is followed as its body (and may hold the next header).
func (c *codingConn) hold(p []byte) {
	for len(p) > 0 {
		if c.state != inHeader {
			k := c.pass(p)
			c.out = append(c.out, p[:k]...)
			p = p[k:]
			continue
		}
		if len(c.hdr) == 0 && (p[0] == '\r' || p[0] == '\n') {
			c.out = append(c.out, p[0])
			p = p[1:]
			continue
		}
		i := len(c.hdr)
		c.hdr = append(c.hdr, p...)
		if k := min(len(c.hdr), 5); !bytes.Equal(c.hdr[:k], []byte("HTTP/")[:k]) {
			// Not a response: bytes an origin sent past a body's length,
			// or unasked for. They go on at once, for net/http to refuse
			// (it closes a connection that has them), and are no longer
			// followed.
			c.out = append(c.out, c.hdr...)
			c.hdr = nil
			c.state = lost
			return
		}
		end := headerEnd(c.hdr, max(0, i-2))
		if end < 0 {
			if len(c.hdr) > maxScannedHeader {
				c.out = append(c.out, c.hdr...)
				c.hdr = nil
				c.state = lost
			}
			return
		}
		p = p[end-i:]
		c.out = c.header(c.out, c.hdr[:end])
		c.hdr = c.hdr[:0]
	}
}

// header appends a response header to dst, rewritten when its transfer
// codings call for it, and sets how its body is framed.
func (c *codingConn) header(dst, h []byte) []byte {
	if codings, rewrite, removable := c.frame(h); rewrite {
		return rewriteHeader(dst, h, codings, removable)
	}
	return append(dst, h...)
}

// frame reads a response header, sets how its body is framed, and says
// whether the header must be rewritten: it has transfer codings this
// proxy removes (removable, codings), or the origin's own codingField.
func (c *codingConn) frame(h []byte) (codings []string, rewrite, removable bool) {
	first, rest := nextLine(h)
	// The status code, read as net/http reads it.
	_, status, _ := bytes.Cut(first, []byte(" "))
	code, _, _ := bytes.Cut(bytes.TrimLeft(status, " "), []byte(" "))
	statusCode, _ := strconv.Atoi(string(code))
	http10 := bytes.HasPrefix(first, []byte("HTTP/1.0"))
	if statusCode >= 100 && statusCode < 200 {
		if statusCode == http.StatusSwitchingProtocols {
			c.state = lost
		}
		return nil, false, false // an interim response; the final one follows
	}
	head := c.popHead()
	var cl, te, ours bool
	var length int64
	for name, value := range headerFields(rest) {
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err == nil && n >= 0 {
				cl, length = true, n
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			te = true
			for t := range bytes.SplitSeq(value, []byte(",")) {
				if t = bytes.TrimSpace(t); len(t) > 0 {
					codings = appendCoding(codings, t)
				}
			}
		case bytes.EqualFold(name, []byte(codingField)):
			ours = true
		}
	}
	removable = te && !http10 && len(codings) > 0 && removableCodings(codings)
	noBody := head || statusCode == http.StatusNoContent || statusCode == http.StatusNotModified
	switch {
	case noBody:
		c.state = inHeader
	case te && !http10 && len(codings) > 0 && codings[len(codings)-1] == "chunked":
		c.chunked()
	case te && !http10:
		c.state = lost // the body runs to the close, or net/http refuses it
	case cl && length > 0:
		c.state, c.left = inBody, length
	case cl:
		c.state = inHeader
	default:
		c.state = lost
	}
	return codings, removable || ours, removable
}

// onlyChunked is the codings of most responses that have any, shared
// rather than allocated per response; appendCoding copies it before
// appending to it.
var onlyChunked = []string{"chunked"}

// appendCoding appends the transfer coding t, in lower case.
func appendCoding(codings []string, t []byte) []string {
	coding := ""
	for _, k := range [...]string{"chunked", "gzip", "x-gzip", "deflate"} {
		if bytes.EqualFold(t, []byte(k)) {
			coding = k
			break
		}
	}
	if coding == "" {
		coding = strings.ToLower(string(t))
	}
	switch {
	case len(codings) == 0 && coding == "chunked":
		return onlyChunked
	case len(codings) == 1 && &codings[0] == &onlyChunked[0]:
		return []string{"chunked", coding}
	}
	return append(codings, coding)
}

// popHead pops whether the response being read answers a HEAD. Once the
// requests stopped being followed, it says no.
func (c *codingConn) popHead() bool {
	c.req.mu.Lock()
	defer c.req.mu.Unlock()
	if len(c.req.heads) == 0 {
		return false
	}
	h := c.req.heads[0]
	c.req.heads = c.req.heads[1:]
	return h
}

// removableCodings reports whether codings is something net/http does
// not take but this proxy can remove: codings it can decode, with chunked
// at most once and last (RFC 9112 §6.1).
func removableCodings(codings []string) bool {
	if len(codings) == 1 && codings[0] == "chunked" {
		return false // net/http's own case
	}
	for i, t := range codings {
		switch t {
		case "gzip", "x-gzip", "deflate":
		case "chunked":
			if i != len(codings)-1 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// rewriteHeader appends the header lines to dst without the origin's own
// codingField and, when removable, with the transfer codings replaced:
// chunked stays for net/http when it was last, else the message ends at
// the close; Content-Length goes (RFC 9112 §6.3: Transfer-Encoding
// overrides it); codingField names the codings to remove, in the order
// they were applied.
func rewriteHeader(dst, h []byte, codings []string, removable bool) []byte {
	first, rest := nextLine(bytes.TrimRight(h, "\r\n"))
	dst = append(append(dst, first...), "\r\n"...)
	for len(rest) > 0 {
		var l []byte
		l, rest = nextLine(rest)
		name, _, _ := bytes.Cut(l, []byte(":"))
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, []byte(codingField)) ||
			removable && (bytes.EqualFold(name, []byte("Transfer-Encoding")) || bytes.EqualFold(name, []byte("Content-Length"))) {
			continue
		}
		dst = append(append(dst, l...), "\r\n"...)
	}
	if removable {
		if codings[len(codings)-1] == "chunked" {
			codings = codings[:len(codings)-1]
			dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
		} else {
			dst = append(dst, "Connection: close\r\n"...)
		}
		dst = append(append(append(dst, codingField+": "...), strings.Join(codings, ", ")...), "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// decodeTransfer removes from resp's body the transfer codings codingConn
// named, last applied first. The content's length is known only once it
// is read.
func decodeTransfer(resp *http.Response) {
	v := resp.Header.Get(codingField)
	resp.Header.Del(codingField)
	if v == "" {
		return
	}
	codings := strings.Split(v, ", ")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	body := io.ReadCloser(resp.Body)
	for i := len(codings) - 1; i >= 0; i-- {
		body = &decoder{src: body, coding: codings[i]}
	}
	resp.Body = body
}

// decoder removes one transfer coding from src, starting at the first
// read (a response with no content has none to decode).
type decoder struct {
	src    io.ReadCloser
	coding string
	r      io.Reader
	err    error
}

func (d *decoder) Read(p []byte) (int, error) {
	if d.r == nil && d.err == nil {
		if d.coding == "deflate" {
			// RFC 9110 §8.4.1.2: "deflate" is the zlib format.
			d.r, d.err = zlib.NewReader(d.src)
		} else {
			d.r, d.err = gzip.NewReader(d.src)
		}
	}
	if d.err != nil {
		return 0, d.err
	}
	return d.r.Read(p)
}

func (d *decoder) Close() error { return d.src.Close() }
