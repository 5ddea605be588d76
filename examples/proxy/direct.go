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
	"sync"
	"sync/atomic"
	"time"
)

// A request net/http's transport sends crosses three goroutines: the
// handler's, the connection's writer and its reader, each handing the
// request or response to the next over a channel. For the requests a
// reverse proxy passes most, a GET or HEAD without a body to an http
// origin, directTransport writes the request and reads the response on
// the handler's own goroutine, over connections it keeps alive itself;
// every other request (a body, an upgrade, https) goes to net/http's.
//
// What net/http's transport does for such requests, it does too:
//
//   - A kept connection with bytes waiting (an origin that answered more
//     than it was asked, or closed) is not used: a peek before each
//     request (unix) finds them, as net/http's reader, idle on the
//     connection, would have. Bytes past a response's end are found at
//     its end. Without this check, an answer meant for one client could
//     reach the next, and the cache would store it.
//   - A kept connection the origin closed before answering is replaced,
//     and the request sent once more, when nothing of a response came.
//   - The wait for the response header is bounded (-origin-timeout), as
//     are the header's size and the number of 1xx responses not passed
//     on; 1xx responses go to the client through the request's
//     httptrace.ClientTrace, as httputil.ReverseProxy asks.
//   - A request whose context ends is abandoned at once, its connection
//     closed.
//   - A response body the client stops reading is not drained: its
//     connection is closed.

// directTransport is the proxy's transport to its origin (see above).
type directTransport struct {
	next          *http.Transport // everything directTransport does not send itself
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout time.Duration // for the response header, from the request written
	idleTimeout   time.Duration // a kept connection idle longer is closed
	maxIdle       int           // connections kept per origin
	maxHeader     int64         // bytes of response header (1xx included)

	mu   sync.Mutex
	idle map[string][]*directConn // by host:port, the most recently used last
}

// direct reports whether req is one directTransport sends itself.
func (t *directTransport) direct(req *http.Request) bool {
	return t.dial != nil && req.URL.Scheme == "http" &&
		(req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		len(req.TransferEncoding) == 0 && req.Trailer == nil && !req.Close &&
		len(req.Header["Upgrade"]) == 0 && len(req.Header["Expect"]) == 0
}

// RoundTrip sends req and returns the origin's response.
func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.direct(req) {
		return t.next.RoundTrip(req)
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	for retried := false; ; retried = true {
		c, reused, err := t.conn(req.Context(), addr)
		if err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		c.close()
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// A kept connection the origin closed as the request went out:
		// nothing came back, so the request is sent once more, on a new
		// connection, as net/http's transport does for idempotent ones.
		if !reused || retried || c.lr.got > 0 {
			return nil, err
		}
	}
}

// CloseIdleConnections closes the kept connections, both transports'.
func (t *directTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
	t.next.CloseIdleConnections()
}

// conn returns a connection to addr: the most recently used kept one
// that is still clean, or a new one.
func (t *directTransport) conn(ctx context.Context, addr string) (c *directConn, reused bool, err error) {
	now := time.Now()
	for {
		t.mu.Lock()
		list := t.idle[addr]
		if len(list) == 0 {
			t.mu.Unlock()
			break
		}
		c = list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[addr] = list[:len(list)-1]
		t.mu.Unlock()
		if !t.idleTooLong(now.Sub(c.idleSince)) && c.clean() {
			return c, true, nil
		}
		c.close()
	}
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return newDirectConn(t, addr, nc), false, nil
}

// keep puts c back among the kept connections, or closes it when enough
// are kept. The oldest is closed if it has been idle too long, so
// connections a burst opened do not stay open for good.
func (t *directTransport) keep(c *directConn) {
	c.idleSince = time.Now()
	var stale *directConn
	t.mu.Lock()
	list := t.idle[c.addr]
	if len(list) > 0 && t.idleTooLong(c.idleSince.Sub(list[0].idleSince)) {
		stale = list[0]
		copy(list, list[1:])
		list[len(list)-1] = nil
		list = list[:len(list)-1]
	}
	if len(list) >= t.maxIdle {
		t.mu.Unlock()
		c.close()
	} else {
		if t.idle == nil {
			t.idle = make(map[string][]*directConn)
		}
		t.idle[c.addr] = append(list, c)
		t.mu.Unlock()
	}
	if stale != nil {
		stale.close()
	}
}

// idleTooLong reports whether a connection idle for d is to be closed
// rather than used; with no idle timeout, none is.
func (t *directTransport) idleTooLong(d time.Duration) bool {
	return t.idleTimeout > 0 && d >= t.idleTimeout
}

// directConn is one connection to the origin and its buffers.
type directConn struct {
	t         *directTransport
	addr      string
	nc        net.Conn
	lr        limitedReader
	br        *bufio.Reader
	bw        *bufio.Writer
	peek      func() bool // reports whether the kernel holds no bytes for it and it is open; nil: unknown
	held      func() bool // reports whether the conn under it holds bytes read and not taken; nil: none can
	idleSince time.Time
	cancelled atomic.Bool // the request's context ended while it was in use
}

func newDirectConn(t *directTransport, addr string, nc net.Conn) *directConn {
	c := &directConn{t: t, addr: addr, nc: nc}
	c.lr.r = nc
	c.br = bufio.NewReaderSize(&c.lr, 4096)
	c.bw = bufio.NewWriterSize(nc, 4096)
	c.peek = idlePeek(nc)
	if h, ok := nc.(interface{ held() bool }); ok {
		c.held = h.held // looked up once, not on every reuse
	}
	return c
}

// clean reports whether c can carry a request: nothing of an earlier
// response or unasked for is waiting on it, and the origin has not
// closed it.
func (c *directConn) clean() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.held != nil && c.held() {
		return false
	}
	return c.peek == nil || c.peek()
}

func (c *directConn) close() { _ = c.nc.Close() }

// aLongTimeAgo is a deadline that has passed: it ends a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// errHeaderTooLarge is the error of a response header past maxHeader.
type errHeaderTooLarge int64

func (e errHeaderTooLarge) Error() string {
	return fmt.Sprintf("origin's response header exceeded %d bytes; aborted", int64(e))
}

// most1xx bounds the informational responses before the final one that
// are passed on to the client.
const most1xx = 16

// roundTrip writes req on c and reads the response header. Its body, if
// any, reads from c, which goes back to the kept connections when the
// body ends whole.
func (c *directConn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := func() bool { return true }
	if ctx.Done() != nil {
		c.cancelled.Store(false)
		stop = context.AfterFunc(ctx, func() {
			c.cancelled.Store(true)
			_ = c.nc.SetDeadline(aLongTimeAgo)
		})
	}
	c.lr.got, c.lr.left = 0, c.t.maxHeader
	if err := c.nc.SetReadDeadline(c.headerDeadline()); err != nil {
		stop()
		return nil, err
	}
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		stop()
		return nil, err // the caller closes c
	}
	var resp *http.Response
	for n1xx := 0; ; n1xx++ {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			if c.lr.left <= 0 {
				err = errHeaderTooLarge(c.t.maxHeader)
			}
			stop()
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// A 1xx before the final response: passed on when the request
		// asks for them (ReverseProxy does), which resets the header
		// bound, as net/http's transport does.
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil && n1xx < most1xx {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				stop()
				return nil, err
			}
			c.lr.left = c.t.maxHeader
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		stop()
		return nil, errors.New("origin switched protocols, which the request did not ask for")
	}
	// The body may take as long as the origin sends it.
	c.lr.left = 1<<63 - 1
	_ = c.nc.SetReadDeadline(time.Time{})
	if c.cancelled.Load() {
		_ = c.nc.SetDeadline(aLongTimeAgo) // the context ended as the deadline was cleared
	}
	if resp.Body == http.NoBody {
		c.release(resp.Close, stop)
		return resp, nil
	}
	resp.Body = &directBody{c: c, rc: resp.Body, close: resp.Close, stop: stop}
	return resp, nil
}

// release ends a request on c: c is kept when its response ended whole
// and left it open, and the request's context did not end; otherwise it
// is closed.
func (c *directConn) release(respClose bool, stop func() bool) {
	if !stop() || c.cancelled.Load() || respClose {
		c.close()
		return
	}
	c.t.keep(c)
}

// directBody is a response body read from a directConn.
type directBody struct {
	c     *directConn
	rc    io.ReadCloser
	close bool // the response says the connection closes after it
	stop  func() bool
	done  bool
}

func (b *directBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		b.c.release(b.close, b.stop)
	case err != nil:
		b.done = true
		b.stop()
		b.c.close()
	}
	return n, err
}

// Close gives up a body not read to its end: its connection is closed,
// not drained.
func (b *directBody) Close() error {
	if !b.done {
		b.done = true
		b.stop()
		b.c.close()
	}
	return nil
}

// limitedReader counts the bytes a response brought and bounds those
// of its header.
type limitedReader struct {
	r    io.Reader
	left int64 // bytes it may still return
	got  int64 // bytes it returned for this request
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.got += int64(n)
	return n, err
}

// headerDeadline is when the wait for a response header ends: none
// without a header timeout.
func (c *directConn) headerDeadline() time.Time {
	if c.t.headerTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.t.headerTimeout)
}
