package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recordingListener is framingListener that keeps the connections it
// made, so a test can read what they held.
type recordingListener struct {
	framingListener
	mu    sync.Mutex
	conns []*framingConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.framingListener.Accept()
	if fc, ok := c.(*framingConn); ok {
		l.mu.Lock()
		l.conns = append(l.conns, fc)
		l.mu.Unlock()
	}
	return c, err
}

func (l *recordingListener) sums() (joined, atEnd int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		joined += c.hold.joined.Load()
		atEnd += c.hold.heldAtEnd.Load()
	}
	return joined, atEnd
}

// serveCounted serves h behind the stats counter, as the proxy does, on a
// loopback listener of framingConns.
func serveCounted(t *testing.T, h http.Handler) (*recordingListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &recordingListener{framingListener: framingListener{ln}}
	srv := &http.Server{Handler: newCacheStats("hitbox").count(h), ConnContext: framingContext}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(rl) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return rl, ln.Addr().String()
}

// TestHitWritesJoined checks the argument of coalesce.go on every
// response length around net/http's buffer: a hit's held write is always
// sent with a later write of the same response, never left for the
// response's end; the response arrives whole, by GET and HEAD on one
// keep-alive connection, whether the handler writes its body in one write
// or in pieces.
func TestHitWritesJoined(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<10)
	rl, addr := serveCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		piece, _ := strconv.Atoi(r.URL.Query().Get("piece"))
		w.Header().Set("Cache-Status", "hitbox; hit; ttl=10")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		b := body[:n]
		for piece > 0 && len(b) > piece {
			_, _ = w.Write(b[:piece])
			b = b[piece:]
		}
		_, _ = w.Write(b)
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var sizes []int
	for n := 0; n <= 2*netHTTPBuffer+50; n++ {
		if n%netHTTPBuffer < 50 || n%netHTTPBuffer > netHTTPBuffer-450 {
			sizes = append(sizes, n)
		}
	}
	sizes = append(sizes, 40<<10)
	for _, piece := range []int{0, 1000, netHTTPBuffer} {
		for _, n := range sizes {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(conn, "%s /?n=%d&piece=%d HTTP/1.1\r\nHost: x\r\n\r\n", method, n, piece)
				req, _ := http.NewRequest(method, "/", nil)
				resp, err := http.ReadResponse(br, req)
				if err != nil {
					t.Fatalf("%s of %d bytes in pieces of %d: %v", method, n, piece, err)
				}
				got, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				want := body[:n]
				if method == http.MethodHead {
					want = nil
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s of %d bytes in pieces of %d: %d bytes, %v", method, n, piece, len(got), err)
				}
			}
		}
	}
	joined, atEnd := rl.sums()
	if joined == 0 || atEnd != 0 {
		t.Errorf("%d held writes joined to the next, %d left for the response's end: want some, and none", joined, atEnd)
	}
}

// TestStreamNotHeld checks that what a response sends before it ends is
// not held back: what a handler flushes, hit or not, whatever its length;
// and a response that is no hit (one streamed from the origin) sends
// net/http's buffer whenever it fills, flushed or not. Each time the
// handler waits for the client to have read some of the body before it
// ends.
func TestStreamNotHeld(t *testing.T) {
	t.Parallel()
	got := make(chan struct{})
	_, addr := serveCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		if q.Get("hit") != "" {
			w.Header().Set("Cache-Status", "hitbox; hit; ttl=10")
		}
		_, _ = w.Write(bytes.Repeat([]byte("x"), n))
		if q.Get("flush") != "" {
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "end")
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for _, c := range []struct{ hit, flush string }{{"", "1"}, {"1", "1"}, {"", ""}} {
		for n := netHTTPBuffer - 400; n <= netHTTPBuffer+100; n++ {
			if c.flush == "" && n < netHTTPBuffer {
				continue // nothing is sent before the end
			}
			_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
			fmt.Fprintf(conn, "GET /?n=%d&hit=%s&flush=%s HTTP/1.1\r\nHost: x\r\n\r\n", n, c.hit, c.flush)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("n=%d %+v: %v", n, c, err)
			}
			want := n
			if c.flush == "" {
				want = 1000 // what the first full buffer surely holds
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, want)); err != nil {
				t.Fatalf("n=%d %+v: %d bytes sent did not arrive before the handler ended: %v", n, c, want, err)
			}
			got <- struct{}{}
			if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != n-want+3 {
				t.Fatalf("n=%d %+v: the rest: %d bytes, %v", n, c, len(rest), err)
			}
			_ = resp.Body.Close()
		}
	}
}

// TestJoinedWriteAllocations: holding a write and sending it with the
// next in one writev allocates nothing once the pool is warm.
func TestJoinedWriteAllocations(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := &framingConn{Conn: raw}
	full, rest := make([]byte, netHTTPBuffer), make([]byte, 12<<10)
	allocs := testing.AllocsPerRun(100, func() {
		c.holdWrites(true)
		if _, err := c.Write(full); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(rest); err != nil {
			t.Fatal(err)
		}
		c.holdWrites(false)
	})
	if c.hold.joined.Load() == 0 || allocs != 0 {
		t.Errorf("%d writes joined, %.1f allocations each: want some, and none", c.hold.joined.Load(), allocs)
	}
	_ = c.Close()
	<-drained
}
