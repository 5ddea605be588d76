package httpcache

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// writer is the http.ResponseWriter the wrapped handler writes to. When the
// final status arrives the exchange decides what happens to the response:
// it streams to the client, teed into a buffer when it will be stored, or
// it is held back (a 304 answering the cache's own validation, a 5xx the
// cache will replace with a stale response). 1xx interim responses pass
// straight through and are never stored.
//
// It keeps http.Flusher, http.Hijacker and io.ReaderFrom working, and
// Unwrap lets http.ResponseController reach the writer below for
// deadlines and full duplex.
type writer struct {
	x  *exchange
	rw http.ResponseWriter

	status      int
	wroteHeader bool
	held        bool  // the response is kept from the client
	storing     bool  // the body is teed into buf
	overflow    bool  // the body outgrew MaxBodySize: not stored
	failed      bool  // a write to the client failed
	hijacked    bool  // the handler took the connection
	discard     bool  // the handler's response was replaced: its body goes nowhere
	sent        bool  // the header went to the client
	written     int64 // body bytes the handler wrote
	buf         []byte
}

var (
	_ http.Flusher    = (*writer)(nil)
	_ http.Hijacker   = (*writer)(nil)
	_ io.ReaderFrom   = (*writer)(nil)
	_ io.StringWriter = (*writer)(nil)
)

// Header returns the header map of the response below: the handler's
// fields go straight to it, so a streamed response costs no copy.
func (w *writer) Header() http.Header { return w.rw.Header() }

// WriteHeader passes 1xx responses through and hands a final status to
// the exchange, once.
func (w *writer) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// An interim response (RFC 9110 §15.2): forwarded as it comes,
		// never stored; the final response follows.
		if !w.held {
			w.rw.WriteHeader(code)
		}
		return
	}
	if code < 100 || code > 599 {
		// No HTTP status (RFC 9110 §15): net/http would panic on some
		// and pass others on; the client gets a 502 instead.
		w.x.badStatus(code)
		w.wroteHeader, w.status, w.discard = true, http.StatusBadGateway, true
		return
	}
	w.wroteHeader = true
	w.status = code
	w.x.onHeader(w, code)
}

// sendHeader writes the final status to the client.
func (w *writer) sendHeader() {
	w.sent = true
	if h := w.rw.Header(); h["Content-Type"] == nil {
		// No sniffed Content-Type (net/http's default for a body without
		// one): a response goes out with the fields it came with (RFC
		// 9111 §3.1), so a miss and the hits that follow carry the same.
		// A nil value is net/http's documented way to say none.
		h["Content-Type"] = nil
	}
	w.rw.WriteHeader(w.status)
}

// Write tees p into the stored body when the response is being stored and
// sends it to the client unless the response is held.
func (w *writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.written += int64(len(p))
	if w.held {
		w.keep(p)
		return len(p), nil
	}
	if w.storing {
		w.keep(p)
		if w.storing && w.written == w.x.declaredLength() {
			// The whole body: stored before its last bytes go out.
			w.x.storeWhole()
		}
	}
	if w.discard || w.failed && w.x.detachedFill() {
		return len(p), nil
	}
	n, err := w.rw.Write(p)
	if err != nil {
		w.failed = true
		if w.x.filling() {
			w.x.fill.clientGone()
			if w.x.detachedFill() {
				// Others wait for this body: the handler goes on, for them.
				return len(p), nil
			}
		}
	}
	return n, err
}

// WriteString is Write for a string, so io.WriteString avoids a copy when
// nothing is teed.
func (w *writer) WriteString(s string) (int, error) {
	if w.held || w.storing || w.discard || w.failed || !w.wroteHeader {
		return w.Write([]byte(s))
	}
	w.written += int64(len(s))
	n, err := io.WriteString(w.rw, s)
	if err != nil {
		w.failed = true
	}
	return n, err
}

// keep appends p to the buffer, giving up past MaxBodySize: a body too
// large to store streams on, unstored.
func (w *writer) keep(p []byte) {
	if w.overflow {
		return
	}
	if int64(len(w.buf))+int64(len(p)) > w.x.c.opts.MaxBodySize {
		w.overflow, w.storing = true, false
		putBuf(w.buf)
		w.buf = nil
		// Too large to share: the waiters go to the handler now rather
		// than when this body ends.
		w.x.release(nil, 0)
		return
	}
	if w.buf == nil {
		w.buf = getBuf()
	}
	w.buf = append(w.buf, p...)
}

// Flush sends what was written so far to the client.
func (w *writer) Flush() { _ = w.FlushError() }

// FlushError is Flush that reports failure, as http.ResponseController
// prefers.
func (w *writer) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.held || w.hijacked {
		return nil
	}
	// A failed flush marks nothing: a writer below that cannot flush is
	// no fault of the response, and a client that is gone makes the next
	// write fail, which does.
	return http.NewResponseController(w.rw).Flush()
}

// Hijack hands the connection to the handler; the response is then not
// stored.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		w.storing = false
	}
	return conn, brw, err
}

// ReadFrom copies src to the response, through the writer below's own
// ReadFrom (sendfile) when nothing needs to be teed.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.held && !w.storing && !w.discard && !w.failed {
		if rf, ok := w.rw.(io.ReaderFrom); ok {
			n, err := rf.ReadFrom(src)
			w.written += n
			if err != nil {
				w.failed = true
			}
			return n, err
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(writeOnly{w}, src, *bp)
}

// Unwrap returns the writer below, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

// writeOnly hides ReadFrom so io.CopyBuffer does not call it back.
type writeOnly struct{ w io.Writer }

func (o writeOnly) Write(p []byte) (int, error) { return o.w.Write(p) }

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bodyBufs recycles body buffers; buffers that grew large are dropped so
// the pool does not pin memory. A pool holds pointers; the *[]byte a
// buffer came in goes to bufBoxes when the buffer is taken out, and holds
// the next buffer put back, so a round trip through the pool allocates
// nothing.
var bodyBufs, bufBoxes sync.Pool

const maxPooledBuf = 256 << 10

func getBuf() []byte {
	if p, ok := bodyBufs.Get().(*[]byte); ok {
		b := (*p)[:0]
		*p = nil
		bufBoxes.Put(p)
		return b
	}
	return make([]byte, 0, 4096)
}

func putBuf(b []byte) {
	if b == nil || cap(b) > maxPooledBuf {
		return
	}
	p, ok := bufBoxes.Get().(*[]byte)
	if !ok {
		p = new([]byte)
	}
	*p = b[:0]
	bodyBufs.Put(p)
}

// recorder is the ResponseWriter of a refresh the cache makes on its own
// (stale-while-revalidate): nothing reaches a client.
type recorder struct {
	header   http.Header
	status   int
	body     []byte
	max      int64
	overflow bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && (code < 100 || code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.overflow {
		if int64(len(r.body))+int64(len(p)) > r.max {
			r.overflow, r.body = true, nil
		} else {
			r.body = append(r.body, p...)
		}
	}
	return len(p), nil
}

// Flush does nothing: there is no client.
func (r *recorder) Flush() {}
