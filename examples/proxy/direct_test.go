package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptOrigin is an origin on loopback that answers each request with what
// its answer func writes, byte for byte, so that tests can send what a
// broken or hostile origin sends. answer gets the connection's number
// (from 0, in order of acceptance) and the request's on that connection;
// it returns false to close the connection.
type scriptOrigin struct {
	url   string
	ln    net.Listener
	conns atomic.Int32
	mu    sync.Mutex
	open  []net.Conn
	wg    sync.WaitGroup
}

func newScriptOrigin(t *testing.T, answer func(c net.Conn, req *http.Request, conn, n int) bool) *scriptOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &scriptOrigin{url: "http://" + ln.Addr().String(), ln: ln}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conn := int(o.conns.Add(1)) - 1
			o.mu.Lock()
			o.open = append(o.open, c)
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if !answer(c, req, conn, n) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		o.mu.Lock()
		for _, c := range o.open {
			_ = c.Close()
		}
		o.mu.Unlock()
		o.wg.Wait()
	})
	return o
}

// okResponse is a 200 whose body is body.
func okResponse(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// newTestDirect is the proxy's transport to an origin, with a header
// timeout of its own.
func newTestDirect(t *testing.T, headerTimeout time.Duration) *directTransport {
	t.Helper()
	if !canPeek {
		t.Skip("the direct transport is off on this system")
	}
	tr := newDirectTransport(originTransport(headerTimeout))
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// fetch sends a request through rt and reads the whole response.
func fetch(ctx context.Context, rt http.RoundTripper, method, url string) (status int, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestDirectKeepsConnections: bodiless GETs and HEADs go over one kept
// connection, one after another, until a response says it closes.
func TestDirectKeepsConnections(t *testing.T) {
	origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, _, n int) bool {
		if req.URL.Path == "/close" {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye")
			return false
		}
		resp := okResponse(req.Method + " " + req.URL.Path + " " + strconv.Itoa(n))
		if req.Method == "HEAD" {
			resp = resp[:strings.Index(resp, "\r\n\r\n")+4]
		}
		_, _ = io.WriteString(c, resp)
		return true
	})
	tr := newTestDirect(t, time.Minute)
	for i, step := range []struct{ method, path, want string }{
		{"GET", "/a", "GET /a 0"},
		{"HEAD", "/b", ""},
		{"GET", "/c", "GET /c 2"},
		{"GET", "/close", "bye"},
		{"GET", "/d", "GET /d 0"},
	} {
		status, body, err := fetch(context.Background(), tr, step.method, origin.url+step.path)
		if err != nil || status != 200 || body != step.want {
			t.Fatalf("request %d (%s %s): %d %q, %v; want 200 %q", i, step.method, step.path, status, body, err, step.want)
		}
	}
	if n := origin.conns.Load(); n != 2 {
		t.Errorf("%d connections to the origin, want 2 (one closed by its response)", n)
	}
}

// TestDirectRefusesUnaskedBytes: bytes an origin sends that no request
// asked for are never read as the answer to the next request, wherever
// they come: past a response's length, in a HEAD response, or later,
// while the connection is idle.
func TestDirectRefusesUnaskedBytes(t *testing.T) {
	const evil = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"
	for _, tc := range []struct {
		name   string
		method string
		answer func(c net.Conn) // the first response, and what follows it
	}{
		{"past its length", "GET", func(c net.Conn) { _, _ = io.WriteString(c, okResponse("first")+evil) }},
		{"past its length, in a later write", "GET", func(c net.Conn) {
			_, _ = io.WriteString(c, okResponse("first"))
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(c, evil)
		}},
		{"a HEAD response's body", "HEAD", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
		}},
		{"a 408 while idle", "GET", func(c net.Conn) {
			_, _ = io.WriteString(c, okResponse("first"))
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, conn, n int) bool {
				if conn == 0 && n == 0 {
					tc.answer(c)
					return true
				}
				_, _ = io.WriteString(c, okResponse("second"))
				return true
			})
			tr := newTestDirect(t, time.Minute)
			if _, _, err := fetch(context.Background(), tr, tc.method, origin.url+"/1"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(60 * time.Millisecond) // the later bytes arrive
			status, body, err := fetch(context.Background(), tr, "GET", origin.url+"/2")
			if err != nil || status != 200 || body != "second" {
				t.Fatalf("the next request got %d %q, %v; want its own response, 200 \"second\"", status, body, err)
			}
			if n := origin.conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2: the one with unasked bytes is not reused", n)
			}
		})
	}
}

// TestDirectRetriesOnce: a kept connection the origin closes as the
// request arrives is replaced and the request sent once more; a request
// that got part of a response, or that failed on a new connection, is
// not sent again.
func TestDirectRetriesOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func(c net.Conn, conn, n int) bool
		wantErr bool
		conns   int32
	}{
		{"closed unanswered", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 1 {
				return false // read the request, close without a word
			}
			_, _ = io.WriteString(c, okResponse("ok"))
			return true
		}, false, 2},
		{"reset unanswered", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 1 {
				_ = c.(*net.TCPConn).SetLinger(0) // an RST rather than a FIN
				return false
			}
			_, _ = io.WriteString(c, okResponse("ok"))
			return true
		}, false, 2},
		{"a new connection closed too", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 0 {
				_, _ = io.WriteString(c, okResponse("ok"))
				return true
			}
			return false
		}, true, 2},
		{"part of a body", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 1 {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\no")
				return false
			}
			_, _ = io.WriteString(c, okResponse("ok"))
			return true
		}, true, 1},
		{"a malformed header", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 1 {
				_, _ = io.WriteString(c, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
				return false
			}
			_, _ = io.WriteString(c, okResponse("ok"))
			return true
		}, true, 1},
		// A header cut short reads as nothing at all (the connection to
		// the origin holds a header until it is whole, see codingConn),
		// as it does through net/http's transport: a GET may be sent
		// again (RFC 9110 §9.2.2).
		{"part of a header", func(c net.Conn, conn, n int) bool {
			if conn == 0 && n == 1 {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-")
				return false
			}
			_, _ = io.WriteString(c, okResponse("ok"))
			return true
		}, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int32
			origin := newScriptOrigin(t, func(c net.Conn, _ *http.Request, conn, n int) bool {
				sent.Add(1)
				return tc.answer(c, conn, n)
			})
			tr := newTestDirect(t, time.Minute)
			if _, _, err := fetch(context.Background(), tr, "GET", origin.url+"/1"); err != nil {
				t.Fatal(err)
			}
			status, body, err := fetch(context.Background(), tr, "GET", origin.url+"/2")
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %d %q, want an error", status, body)
				}
			} else if err != nil || status != 200 || body != "ok" {
				t.Errorf("got %d %q, %v; want 200 \"ok\" after one retry", status, body, err)
			}
			if n := origin.conns.Load(); n != tc.conns {
				t.Errorf("%d connections, want %d", n, tc.conns)
			}
			if want := tc.conns + 1; sent.Load() != want {
				t.Errorf("the origin read %d requests, want %d", sent.Load(), want)
			}
		})
	}
}

// TestDirectGivesUp: the wait for a response header ends at the header
// timeout (an error that says it timed out, which the proxy answers
// 504), and at once when the request's context ends, its connection
// closed; so does a body read when the context ends mid-body.
func TestDirectGivesUp(t *testing.T) {
	closed := make(chan struct{}, 4)
	origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, _, _ int) bool {
		if req.URL.Path == "/slow-body" {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
		}
		// Nothing more: wait for the proxy to close.
		_, _ = c.Read(make([]byte, 1))
		closed <- struct{}{}
		return false
	})
	waitClosed := func(t *testing.T) {
		t.Helper()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection to the origin was not closed")
		}
	}

	t.Run("header timeout", func(t *testing.T) {
		tr := newTestDirect(t, 100*time.Millisecond)
		start := time.Now()
		_, _, err := fetch(context.Background(), tr, "GET", origin.url+"/")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("gave up after %v, want about the 100ms timeout", d)
		}
		waitClosed(t)
	})
	t.Run("cancelled before the header", func(t *testing.T) {
		tr := newTestDirect(t, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, _, err := fetch(ctx, tr, "GET", origin.url+"/")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		waitClosed(t)
	})
	t.Run("cancelled mid-body", func(t *testing.T) {
		tr := newTestDirect(t, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", origin.url+"/slow-body", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(50*time.Millisecond, cancel)
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err == nil || string(b) != "part" {
			t.Fatalf("read %q, %v; want \"part\" and an error", b, err)
		}
		waitClosed(t)
	})
}

// TestDirectAbandonedBody: a body the client stops reading is not read
// to its end (it may never end): its connection is closed.
func TestDirectAbandonedBody(t *testing.T) {
	origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, _, _ int) bool {
		if req.URL.Path != "/endless" {
			_, _ = io.WriteString(c, okResponse("short"))
			return true
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
		chunk := make([]byte, 32<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return false
			}
		}
	})
	tr := newTestDirect(t, time.Minute)
	resp, err := tr.RoundTrip(mustRequest(t, "GET", origin.url+"/endless"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	closedAt := make(chan error, 1)
	go func() { closedAt <- resp.Body.Close() }()
	select {
	case <-closedAt:
	case <-time.After(5 * time.Second):
		t.Fatal("Close read the endless body")
	}
	if _, body, err := fetch(context.Background(), tr, "GET", origin.url+"/next"); err != nil || body != "short" {
		t.Fatalf("the next request: %q, %v", body, err)
	}
	if n := origin.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: the abandoned one is not reused", n)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestDirectHeaderBounds: a response header past the bound is an error
// that names it; 1xx responses the request does not take count toward
// it, those it takes (through its ClientTrace) do not, and reach it.
func TestDirectHeaderBounds(t *testing.T) {
	origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, _, _ int) bool {
		switch req.URL.Path {
		case "/big":
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 8000)+"\r\nContent-Length: 0\r\n\r\n")
		case "/hints":
			for range 3 {
				_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nX-Pad: "+strings.Repeat("p", 1500)+"\r\n\r\n")
			}
			_, _ = io.WriteString(c, okResponse("page"))
		}
		return true
	})
	tr := newTestDirect(t, time.Minute)
	tr.maxHeader = 4096

	_, _, err := fetch(context.Background(), tr, "GET", origin.url+"/big")
	if err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("a header of 8000 bytes: err %v, want one naming the 4096-byte bound", err)
	}

	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprint(code, " ", h.Get("Link")))
		return nil
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	status, body, err := fetch(ctx, tr, "GET", origin.url+"/hints")
	if err != nil || status != 200 || body != "page" || len(hints) != 3 || hints[0] != "103 </style.css>; rel=preload; as=style" {
		t.Errorf("with a trace: %d %q, %v, hints %q; want 200 \"page\" and three 103s", status, body, err, hints)
	}
	if _, _, err := fetch(context.Background(), tr, "GET", origin.url+"/hints"); err == nil {
		t.Errorf("without a trace, 4.5 KB of 1xx headers: no error, want the bound's")
	}
}

// TestDirectLeavesTheRest: requests with a body, an upgrade, an
// expectation or another scheme go to net/http's transport.
func TestDirectLeavesTheRest(t *testing.T) {
	tr := &directTransport{dial: (&net.Dialer{}).DialContext}
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		want bool
	}{
		{"GET", func() *http.Request { return mustRequest(t, "GET", "http://o/") }, true},
		{"HEAD", func() *http.Request { return mustRequest(t, "HEAD", "http://o/") }, true},
		{"POST", func() *http.Request { return mustRequest(t, "POST", "http://o/") }, false},
		{"OPTIONS", func() *http.Request { return mustRequest(t, "OPTIONS", "http://o/") }, false},
		{"GET with a body", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://o/", strings.NewReader("x"))
			return r
		}, false},
		{"https", func() *http.Request { return mustRequest(t, "GET", "https://o/") }, false},
		{"upgrade", func() *http.Request {
			r := mustRequest(t, "GET", "http://o/")
			r.Header.Set("Upgrade", "websocket")
			return r
		}, false},
		{"expect", func() *http.Request {
			r := mustRequest(t, "GET", "http://o/")
			r.Header.Set("Expect", "100-continue")
			return r
		}, false},
		{"close", func() *http.Request {
			r := mustRequest(t, "GET", "http://o/")
			r.Close = true
			return r
		}, false},
	} {
		if got := tr.direct(tc.req()); got != tc.want {
			t.Errorf("%s: direct %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDirectNoMixUps: many clients through the proxy, GETs and HEADs
// that must not be stored, an origin that closes connections now and
// then (in its response, or abruptly after reading a request): every
// response a client gets is the one to its own request.
func TestDirectNoMixUps(t *testing.T) {
	var served atomic.Int64
	origin := newScriptOrigin(t, func(c net.Conn, req *http.Request, _, n int) bool {
		k := served.Add(1)
		if k%37 == 0 && n > 0 {
			return false // closed unanswered: retried on a new connection
		}
		body := req.URL.Path
		extra := ""
		if k%11 == 0 {
			extra = "Connection: close\r\n"
		}
		resp := "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nX-Path: " + req.URL.Path + "\r\n" + extra +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		if req.Method != "HEAD" {
			resp += body
		}
		_, _ = io.WriteString(c, resp)
		return extra == ""
	})
	proxyURL, stop := startBenchProxy(t, origin.url)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 2}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for i := range 150 {
				path := fmt.Sprintf("/g%d/r%d", g, i)
				method := "GET"
				if i%5 == 0 {
					method = "HEAD"
				}
				req, _ := http.NewRequest(method, proxyURL+path, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusBadGateway {
					continue // closed unanswered twice running
				}
				if got := resp.Header.Get("X-Path"); got != path || method == "GET" && string(b) != path {
					t.Errorf("%s %s: got %d for %q, body %q", method, path, resp.StatusCode, got, b)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDirectZeroSettings: a transport whose net/http settings are left
// at zero (no idle timeout, the default number of idle connections, the
// default header bound) still keeps its connections.
func TestDirectZeroSettings(t *testing.T) {
	if !canPeek {
		t.Skip("the direct transport is off on this system")
	}
	origin := newScriptOrigin(t, func(c net.Conn, _ *http.Request, _, _ int) bool {
		_, _ = io.WriteString(c, okResponse("ok"))
		return true
	})
	tr := newDirectTransport(&http.Transport{DialContext: dialCoding((&net.Dialer{}).DialContext)})
	defer tr.CloseIdleConnections()
	for range 3 {
		if _, body, err := fetch(context.Background(), tr, "GET", origin.url+"/"); err != nil || body != "ok" {
			t.Fatalf("%q, %v", body, err)
		}
	}
	if n := origin.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}
