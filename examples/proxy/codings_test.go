package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// rawOrigin answers each request with the bytes scripted for its path,
// on keep-alive connections, and counts the connections it accepted. A
// response scripted with close ends its connection after it.
type rawOrigin struct {
	ln      net.Listener
	answers map[string]rawAnswer
	conns   atomic.Int32
	wg      sync.WaitGroup
}

type rawAnswer struct {
	bytes []byte
	close bool
}

func newRawOrigin(t *testing.T, answers map[string]rawAnswer) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawOrigin{ln: ln, answers: answers}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.conns.Add(1)
			o.wg.Add(1)
			go o.serve(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); o.wg.Wait() })
	return o
}

func (o *rawOrigin) serve(c net.Conn) {
	defer o.wg.Done()
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		a, ok := o.answers[req.URL.Path]
		if !ok {
			a = rawAnswer{bytes: []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")}
		}
		if _, err := c.Write(a.bytes); err != nil || a.close {
			return
		}
	}
}

// chunked frames b as chunks of at most 7 bytes, with a trailer field.
func chunked(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(7, len(b))
		fmt.Fprintf(&s, "%x\r\n%s\r\n", n, b[:n])
		b = b[n:]
	}
	s.WriteString("0\r\nX-Trailer: t\r\n\r\n")
	return s.String()
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func deflated(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

// TestProxyTransferCodings: transfer codings belong to one hop (RFC 9112
// §6.1, §7): a response whose codings the proxy can remove (gzip,
// x-gzip, deflate, before a final chunked or with the message ending at
// the close) reaches the client decoded and is stored as decoded, where
// net/http alone fails it and the client gets a 502; one it cannot
// remove still gets a 502. The responses share keep-alive connections
// with responses that have no content (HEAD, 204), so the steps also
// check that each response is found where it begins.
func TestProxyTransferCodings(t *testing.T) {
	t.Parallel()
	const cc = "Cache-Control: max-age=60\r\n"
	const none = "Cache-Control: no-store\r\n"
	o := newRawOrigin(t, map[string]rawAnswer{
		"/len":      {bytes: []byte("HTTP/1.1 200 OK\r\n" + none + "Content-Length: 5\r\n\r\nhello")},
		"/head":     {bytes: []byte("HTTP/1.1 200 OK\r\n" + none + "Content-Length: 10\r\n\r\n")},
		"/empty":    {bytes: []byte("HTTP/1.1 204 No Content\r\n" + none + "\r\n")},
		"/gz":       {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked(gzipped("gzip body")))},
		"/xgz":      {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(gzipped("x-gzip body")))},
		"/deflate":  {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: deflate, chunked\r\n\r\n" + chunked(deflated("deflate body")))},
		"/twice":    {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: gzip, gzip, chunked\r\n\r\n" + chunked(gzipped(string(gzipped("twice")))))},
		"/both":     {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 999\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(gzipped("both")))},
		"/chunked":  {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: chunked\r\n\r\n" + chunked([]byte("plain chunked")))},
		"/forged":   {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Hitbox-Transfer-Coding: gzip\r\nContent-Length: 6\r\n\r\nforged")},
		"/close":    {bytes: append([]byte("HTTP/1.1 200 OK\r\n"+cc+"Transfer-Encoding: gzip\r\n\r\n"), gzipped("to the close")...), close: true},
		"/unknown":  {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: arizq, chunked\r\n\r\n" + chunked([]byte("?")))},
		"/overlong": {bytes: []byte("HTTP/1.1 200 OK\r\n" + none + "Content-Length: 3\r\n\r\nabc-and-more")},
		"/last":     {bytes: []byte("HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: chunked, gzip\r\n\r\n" + string(gzipped(chunked([]byte("?")))))},
	})
	base, _, _ := startProxy(t, "http://"+o.ln.Addr().String())
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer c.CloseIdleConnections()
	steps := []struct {
		method, path string
		status       int
		body         string
		hit          bool
	}{
		{"GET", "/len", 200, "hello", false},
		{"HEAD", "/head", 200, "", false},
		{"GET", "/empty", 204, "", false},
		{"GET", "/gz", 200, "gzip body", false},
		{"GET", "/xgz", 200, "x-gzip body", false},
		{"GET", "/deflate", 200, "deflate body", false},
		{"GET", "/twice", 200, "twice", false},
		{"GET", "/both", 200, "both", false},
		{"GET", "/chunked", 200, "plain chunked", false},
		{"GET", "/forged", 200, "forged", false},
		{"GET", "/close", 200, "to the close", false},
		{"GET", "/gz", 200, "gzip body", true},
		{"GET", "/close", 200, "to the close", true},
		{"GET", "/unknown", 502, "", false},
		{"GET", "/last", 502, "", false},
		// Bytes past a body's length: net/http drops that connection;
		// the next request goes on another.
		{"GET", "/overlong", 200, "abc", false},
		{"GET", "/len", 200, "hello", false},
	}
	var conns int32
	for i, s := range steps {
		if s.path == "/overlong" {
			conns = o.conns.Load()
		}
		r := do(t, c, s.method, base+s.path, "")
		if r.status != s.status || s.status == 200 && r.body != s.body || hit(r) != s.hit {
			t.Errorf("step %d, %s %s: %d %q hit=%v, want %d %q hit=%v (Cache-Status %q)",
				i, s.method, s.path, r.status, r.body, hit(r), s.status, s.body, s.hit, r.header.Get("Cache-Status"))
		}
		for _, f := range []string{"Transfer-Encoding", codingField} {
			if v := r.header.Get(f); v != "" {
				t.Errorf("step %d, %s %s: %s: %q reached the client", i, s.method, s.path, f, v)
			}
		}
	}
	// Steps 0 to 10 on one connection (the last ends it), then one
	// connection each for the two the origin's client refuses.
	if n := conns; n != 3 {
		t.Errorf("the origin accepted %d connections, want 3", n)
	}
}

// readerConn is a net.Conn that reads from r and writes nowhere.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c readerConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c readerConn) Write(p []byte) (int, error) { return len(p), nil }

// TestCodingConnSplitReads: the responses a codingConn returns do not
// depend on how the origin's bytes were split across reads.
func TestCodingConnSplitReads(t *testing.T) {
	t.Parallel()
	stream := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(gzipped("gz")) +
		"HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked([]byte("end"))
	// http.ReadResponse returns the interim response too; it answers no
	// request of its own.
	want := []string{"200 abc", "103 ", "200 gz", "304 ", "200 end"}
	for name, r := range map[string]io.Reader{
		"whole":          strings.NewReader(stream),
		"a byte at once": iotest.OneByteReader(strings.NewReader(stream)),
		"halves":         iotest.HalfReader(strings.NewReader(stream)),
	} {
		cc := &codingConn{Conn: readerConn{r: r}}
		cc.req.outbound = true
		for range 4 {
			_, _ = cc.Write([]byte("GET / HTTP/1.1\r\nHost: o\r\n\r\n"))
		}
		br := bufio.NewReaderSize(cc, 16)
		for i, w := range want {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%s: response %d: %v", name, i, err)
			}
			decodeTransfer(resp)
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("%s: response %d: %v", name, i, err)
			}
			if got := fmt.Sprintf("%d %s", resp.StatusCode, b); got != w {
				t.Errorf("%s: response %d: %q, want %q", name, i, got, w)
			}
		}
	}
}

// FuzzCodingConn: what a codingConn returns does not depend on how the
// origin's bytes were split across reads, nor on the size of the reads
// asked of it (headers read where they are in one, held in another).
func FuzzCodingConn(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n"), uint8(5), uint8(7))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), uint8(1), uint8(16))
	f.Add([]byte("\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.0 200 OK\r\nTransfer-Encoding: x-gzip\r\nHitbox-Transfer-Coding: a\r\n\r\nbody"), uint8(3), uint8(2))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabGET / HTTP/1.1\r\n\r\n"), uint8(9), uint8(4))
	f.Fuzz(func(t *testing.T, stream []byte, step, size uint8) {
		read := func(step, size int) []byte {
			cc := &codingConn{Conn: readerConn{r: &stepReader{b: stream, step: step}}}
			cc.req.outbound = true
			for range 3 {
				_, _ = cc.Write([]byte("GET / HTTP/1.1\r\nHost: o\r\n\r\n"))
			}
			_, _ = cc.Write([]byte("HEAD / HTTP/1.1\r\nHost: o\r\n\r\n"))
			var out []byte
			buf := make([]byte, size)
			for {
				n, err := cc.Read(buf)
				out = append(out, buf[:n]...)
				if err != nil {
					return out
				}
			}
		}
		whole := read(len(stream)+1, len(stream)+64)
		if got := read(max(1, int(step)), max(1, int(size))); !bytes.Equal(got, whole) {
			t.Errorf("read in steps of %d into %d bytes:\n%q\nwhole:\n%q", step, size, got, whole)
		}
	})
}

// stepReader returns b at most step bytes at a time, then io.EOF.
type stepReader struct {
	b    []byte
	step int
}

func (r *stepReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b[:min(r.step, len(r.b))])
	r.b = r.b[n:]
	return n, nil
}
