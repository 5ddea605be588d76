package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// TestFramingUnseen: a request the follower has no verdict for, with its
// state not lost (which only a framing it got wrong can lead to), is
// served with the connection closed after it, as after lost state.
func TestFramingUnseen(t *testing.T) {
	t.Parallel()
	c := &framingConn{}
	if v := c.next(); v != framingUnknown {
		t.Errorf("no request followed: verdict %d, want framingUnknown", v)
	}
	c.scan([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if v, w := c.next(), c.next(); v != framingOK || w != framingUnknown {
		t.Errorf("one request followed, two popped: verdicts %d, %d; want framingOK, framingUnknown", v, w)
	}
}

// TestProxyRefusesAmbiguousAfterPRI: net/http hands a handler a
// "PRI * HTTP/2.0" request that has header fields as an HTTP/2.0 request
// and keeps the connection open; its verdict is still popped, so the
// ambiguous request behind it gets its own verdict and is refused, and
// what it smuggles never reaches the origin.
func TestProxyRefusesAmbiguousAfterPRI(t *testing.T) {
	o := &reflectingOrigin{}
	originSrv := httptest.NewServer(o)
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Only against a hang: no answer here depends on time.
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	_, _ = io.WriteString(conn, "PRI * HTTP/2.0\r\nHost: x\r\n\r\n"+
		"POST /pri-cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+
		"GET /pri-smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	var statuses []int
	for _, method := range []string{"PRI", "POST", "GET"} {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			break // the proxy closed the connection
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if len(statuses) < 2 || statuses[1] != http.StatusBadRequest || len(statuses) > 2 {
		t.Errorf("statuses %v, want the second 400 and the connection closed after it", statuses)
	}
	for _, p := range []string{"/pri-cl-te", "/pri-smuggled"} {
		if n := o.saw(p); n != 0 {
			t.Errorf("the origin saw %s %d times", p, n)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// FuzzFramingNetHTTP: for any bytes a client sends, read in pieces of any
// size, the follower's verdicts are net/http's reading of the same bytes:
// one for each request the server hands a handler, in order, ambiguous
// exactly when its header had both Content-Length and Transfer-Encoding,
// up to where the server closes the connection or the follower lost
// state (after which every request is answered with the connection
// closed).
func FuzzFramingNetHTTP(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\nCookie: c\r\nTE: trailers\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: x\r\ncontent-length: 1\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nab\r\n\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\nHost: x\nContent-Length: 3\n\nabcGET / HTTP/1.1\nHost: x\nContent-Length: 1\nTransfer-Encoding: chunked\n\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"PRI * HTTP/2.0\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(6))
	}
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		c := &framingConn{}
		n := len(stream)
		if step > 0 {
			n = int(step%16) + 1
		}
		for s := stream; len(s) > 0; {
			k := min(n, len(s))
			c.scan(s[:k])
			s = s[k:]
		}
		got, gone := c.verdicts()
		want := netHTTPVerdicts(stream)
		for i, w := range want {
			if i >= len(got) {
				if !gone {
					t.Fatalf("net/http reads request %d (verdicts %v), the follower has %v and follows on", i+1, want, got)
				}
				return // the server closes the connection after this one
			}
			if got[i] != w {
				t.Fatalf("request %d: verdicts %v, net/http's reading %v", i+1, got, want)
			}
		}
	})
}

// netHTTPVerdicts reads stream as net/http's server reads a connection's
// requests, and returns for each request it hands a handler whether its
// header had both Content-Length and Transfer-Encoding. It stops where the
// server closes the connection (a request it cannot read, a body it cannot
// read, Connection: close) or refuseAmbiguous does.
func netHTTPVerdicts(stream []byte) []bool {
	src := bytes.NewReader(stream)
	br := bufio.NewReader(src)
	at := func() int { return len(stream) - src.Len() - br.Buffered() }
	var verdicts []bool
	post := false
	for {
		if post {
			// The server skips up to four CR or LF after a POST.
			peek, _ := br.Peek(4)
			k := 0
			for k < len(peek) && (peek[k] == '\r' || peek[k] == '\n') {
				k++
			}
			_, _ = br.Discard(k)
		}
		start := at()
		req, err := http.ReadRequest(br)
		if err != nil {
			return verdicts
		}
		tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(stream[start:at()])))
		_, _ = tp.ReadLine()
		h, _ := tp.ReadMIMEHeader()
		both := len(h["Content-Length"]) > 0 && len(h["Transfer-Encoding"]) > 0
		if req.Method != "OPTIONS" || req.RequestURI != "*" { // net/http answers that itself
			verdicts = append(verdicts, both)
			if both {
				return verdicts
			}
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil || req.Close {
			return verdicts
		}
		post = req.Method == "POST"
	}
}

// TestFramingConnDeadlines: the read deadlines net/http sets on a
// framingConn, which passes them on only when a read needs them, bind as
// when each is passed on at once: a header trickled past
// ReadHeaderTimeout, a body past ReadTimeout and a connection idle past
// IdleTimeout are cut off, and a handler that runs longer than all three
// is not (its request's context stays live, the connection serves the
// next request).
func TestFramingConnDeadlines(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bodyErr := make(chan error, 1)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/upload":
				_, err := io.ReadAll(r.Body)
				bodyErr <- err
			case "/slow":
				time.Sleep(600 * time.Millisecond)
				if r.Context().Err() != nil {
					_, _ = io.WriteString(w, "cancelled")
					return
				}
			}
			_, _ = io.WriteString(w, "ok")
		}),
		ReadHeaderTimeout: 100 * time.Millisecond,
		ReadTimeout:       300 * time.Millisecond,
		IdleTimeout:       300 * time.Millisecond,
		ConnContext:       framingContext,
	}
	go func() { _ = srv.Serve(framingListener{ln}) }()
	t.Cleanup(func() { _ = srv.Close() })
	dial := func(t *testing.T) net.Conn {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		// Only against a hang: the server's timeouts end what follows.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		return conn
	}
	// closedWithin reads what the server sends until it closes the
	// connection, and says how long that took.
	closedWithin := func(t *testing.T, conn net.Conn) time.Duration {
		start := time.Now()
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("the server did not close the connection: %v", err)
		}
		return time.Since(start)
	}
	get := func(t *testing.T, br *bufio.Reader, conn net.Conn, path string) string {
		_, _ = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}

	t.Run("header", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-A: ")
		if d := closedWithin(t, conn); d < 50*time.Millisecond {
			t.Errorf("cut off after %v, before the header timeout", d)
		}
	})
	t.Run("body", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		_, _ = io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
		select {
		case err := <-bodyErr:
			if err == nil {
				t.Error("the handler read the body whole")
			}
		case <-time.After(10 * time.Second):
			t.Error("the body's read was not cut off")
		}
	})
	t.Run("a slow handler, the next request, idle", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		br := bufio.NewReader(conn)
		if got := get(t, br, conn, "/slow"); got != "ok" {
			t.Errorf("a handler slower than the timeouts: %q", got)
		}
		if got := get(t, br, conn, "/"); got != "ok" {
			t.Errorf("the next request: %q", got)
		}
		if d := closedWithin(t, conn); d < 150*time.Millisecond {
			t.Errorf("closed after %v idle, before the idle timeout", d)
		}
	})
	t.Run("a slow handler, idle", func(t *testing.T) {
		// The read that waits for the next request while the handler
		// runs is ended when the handler is done: the idle timeout
		// starts then.
		t.Parallel()
		conn := dial(t)
		if got := get(t, bufio.NewReader(conn), conn, "/slow"); got != "ok" {
			t.Errorf("a handler slower than the timeouts: %q", got)
		}
		if d := closedWithin(t, conn); d < 150*time.Millisecond {
			t.Errorf("closed after %v idle, before the idle timeout", d)
		}
	})
}
