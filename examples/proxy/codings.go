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

// Where a codingConn is in the responses it reads.
const (
	inRespHeader    = iota // collecting a response's header
	inRespBody             // passing left bytes of a body with a length
	inRespChunkSize        // reading a chunk-size line
	inRespChunkData        // passing left bytes of chunk data and its CRLF
	inRespTrailer          // reading trailer lines up to an empty one
	respLost               // passing everything on (a body to the close, a switch)
)

// codingConn is a connection to the origin. Its writes are followed (a
// framingConn, outbound) to know which responses answer a HEAD; its
// reads are followed response by response, and a header is held until
// it is whole so that it can be rewritten.
type codingConn struct {
	net.Conn
	req framingConn // the requests written, for their methods

	state int
	hdr   []byte // the header so far (inRespHeader)
	left  int64  // inRespBody, inRespChunkData: bytes to pass
	line  []byte // inRespChunkSize, inRespTrailer: the line so far
	out   []byte // a finished header not yet returned
	rerr  error  // a read error held back behind out
	wmu   sync.Mutex
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
		if len(c.out) > 0 {
			n := copy(p, c.out)
			c.out = c.out[n:]
			return n, nil
		}
		if err := c.rerr; err != nil {
			c.rerr = nil
			return 0, err
		}
		n, err := c.Conn.Read(p)
		if n > 0 && c.state != respLost {
			if k := c.pass(p[:n]); k < n {
				c.hold(p[k:n]) // a header began: it comes back through out
				n = k
			}
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

// pass follows body bytes at the front of p and returns how many there
// are before a header begins (all of p when none does).
func (c *codingConn) pass(p []byte) int {
	i := 0
	for i < len(p) {
		switch c.state {
		case inRespHeader:
			return i
		case inRespBody, inRespChunkData:
			k := min(int64(len(p)-i), c.left)
			c.left -= k
			i += int(k)
			if c.left == 0 {
				if c.state == inRespBody {
					c.state = inRespHeader
				} else {
					c.state, c.line = inRespChunkSize, c.line[:0]
				}
			}
		case inRespChunkSize, inRespTrailer:
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				c.line = append(c.line, p[i:]...)
				if len(c.line) > 4096 {
					c.state = respLost // net/http refuses it
				}
				return len(p)
			}
			c.line = append(c.line, p[i:i+j+1]...)
			i += j + 1
			c.endLine()
		case respLost:
			return len(p)
		}
	}
	return i
}

// endLine acts on a complete chunk-size or trailer line.
func (c *codingConn) endLine() {
	line := bytes.TrimRight(c.line, "\r\n")
	c.line = c.line[:0]
	if c.state == inRespTrailer {
		if len(line) == 0 {
			c.state = inRespHeader
		}
		return
	}
	if len(line) == 0 {
		return // the CRLF that ends chunk data
	}
	size, ok := chunkSize(line)
	switch {
	case !ok:
		c.state = respLost // net/http fails the response
	case size == 0:
		c.state = inRespTrailer
	default:
		c.state, c.left = inRespChunkData, size+2
	}
}

// hold collects header bytes; a whole header goes to out, and what
// follows it is followed as its body (and may hold the next header).
func (c *codingConn) hold(p []byte) {
	for len(p) > 0 {
		if c.state != inRespHeader {
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
			c.state = respLost
			return
		}
		end := headerEnd(c.hdr, max(0, i-2))
		if end < 0 {
			if len(c.hdr) > maxScannedHeader {
				c.out = append(c.out, c.hdr...)
				c.hdr = nil
				c.state = respLost
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
	lines := bytes.Split(bytes.TrimRight(h, "\r\n"), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	status := 0
	if f := bytes.Fields(lines[0]); len(f) >= 2 {
		status, _ = strconv.Atoi(string(f[1]))
	}
	http10 := bytes.HasPrefix(lines[0], []byte("HTTP/1.0"))
	if status >= 100 && status < 200 {
		if status == http.StatusSwitchingProtocols {
			c.state = respLost
		}
		return append(dst, h...) // an interim response; the final one follows
	}
	head := c.popHead()
	var codings []string
	var cl, te, ours bool
	var length int64
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err == nil && n >= 0 {
				cl, length = true, n
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			te = true
			for _, t := range strings.Split(string(value), ",") {
				if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
					codings = append(codings, t)
				}
			}
		case bytes.EqualFold(name, []byte(codingField)):
			ours = true
		}
	}
	removable := te && !http10 && len(codings) > 0 && removableCodings(codings)
	if removable || ours {
		dst = rewriteHeader(dst, lines, codings, removable)
	} else {
		dst = append(dst, h...)
	}
	noBody := head || status == http.StatusNoContent || status == http.StatusNotModified
	switch {
	case noBody:
		c.state = inRespHeader
	case te && !http10 && len(codings) > 0 && codings[len(codings)-1] == "chunked":
		c.state, c.line = inRespChunkSize, c.line[:0]
	case te && !http10:
		c.state = respLost // the body runs to the close, or net/http refuses it
	case cl && length > 0:
		c.state, c.left = inRespBody, length
	case cl:
		c.state = inRespHeader
	default:
		c.state = respLost
	}
	return dst
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
func rewriteHeader(dst []byte, lines [][]byte, codings []string, removable bool) []byte {
	dst = append(append(dst, lines[0]...), "\r\n"...)
	for _, l := range lines[1:] {
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
