package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
