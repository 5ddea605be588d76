package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestCollapsing(t *testing.T) {
	t.Parallel()
	const n = 5
	h := newHarness(t, Options{})
	joined := make(chan struct{}, n)
	h.cache.flights.waiting = func() { joined <- struct{}{} }
	entered := make(chan struct{}, n)
	release := make(chan struct{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("shared"))
	}
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); recs[0] = h.get("/r") }()
	<-entered // the leader is in the handler
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); recs[i] = h.get("/r") }()
	}
	for i := 1; i < n; i++ {
		<-joined
	}
	close(release)
	wg.Wait()
	if c := h.origin.count(); c != 1 {
		t.Fatalf("%d concurrent misses made %d handler calls, want 1", n, c)
	}
	collapsed := 0
	for _, rec := range recs {
		if rec.Body.String() != "shared" {
			t.Errorf("body %q", rec.Body)
		}
		if strings.Contains(cacheStatusOf(rec), "collapsed") {
			collapsed++
		}
	}
	if collapsed != n-1 {
		t.Errorf("RFC 9211 §2.6: %d responses say collapsed, want %d", collapsed, n-1)
	}
}

func TestCollapsingNotShareable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		leader func(w http.ResponseWriter)
		fields []string // the waiter's request
	}{
		{"a response that may not be stored is not shared: the waiter asks itself",
			func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }, nil},
		{"RFC 9111 §4.1: a waiter whose Vary-named field differs asks itself",
			func(w http.ResponseWriter) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Vary", "Accept-Language")
			}, []string{"Accept-Language: fr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			joined := make(chan struct{}, 1)
			h.cache.flights.waiting = func() { joined <- struct{}{} }
			entered := make(chan struct{}, 2)
			release := make(chan struct{})
			var mu sync.Mutex
			calls := 0
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				if first {
					entered <- struct{}{}
					<-release
				}
				tc.leader(w)
				_, _ = w.Write([]byte(r.Header.Get("Accept-Language") + "x"))
			}
			done := make(chan *httptest.ResponseRecorder, 2)
			go func() { done <- h.get("/r") }()
			<-entered
			go func() { done <- h.get("/r", tc.fields...) }()
			<-joined
			close(release)
			<-done
			<-done
			if calls != 2 {
				t.Errorf("%d handler calls, want 2", calls)
			}
		})
	}
}

func TestCollapsingWaiterLeaves(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	joined := make(chan struct{}, 1)
	h.cache.flights.waiting = func() { joined <- struct{}{} }
	entered := make(chan struct{})
	release := make(chan struct{})
	var leaderErr error
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		leaderErr = r.Context().Err()
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("ok"))
	}
	leader := make(chan *httptest.ResponseRecorder)
	go func() { leader <- h.get("/r") }()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan struct{})
	go func() {
		defer close(waiter)
		req := httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(ctx)
		h.h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	<-joined
	cancel()
	<-waiter // the waiter returns as soon as its own context ends
	close(release)
	rec := <-leader
	if leaderErr != nil || rec.Body.String() != "ok" {
		t.Errorf("the leader was disturbed: %v %q", leaderErr, rec.Body)
	}
	if !isHit(h.get("/r")) {
		t.Error("the leader's response was not stored")
	}
}

func TestStreamingFirstByteBeforeHandlerEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	release := make(chan struct{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("first "))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("second"))
	}
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("first "))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first " {
		t.Fatalf("first bytes %q, %v", buf, err)
	}
	close(release) // only now may the handler end
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(rest) != "second" {
		t.Fatalf("rest %q", rest)
	}
	resp, err = http.Get(srv.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "first second" || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("the streamed response was stored whole: %q %q", body, resp.Header.Get("Cache-Status"))
	}
}

func TestNothingTruncatedIsStored(t *testing.T) {
	t.Parallel()
	t.Run("a client that disconnects mid-body", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		wrote := make(chan struct{})
		release := make(chan struct{})
		done := make(chan struct{})
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = w.Write([]byte("part"))
			w.(http.Flusher).Flush()
			close(wrote)
			<-release
			<-r.Context().Done()
			_, _ = w.Write([]byte(" rest"))
		}
		srv := httptest.NewServer(h.h)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/r", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		<-wrote
		cancel()
		resp.Body.Close()
		close(release)
		<-done
		h.origin.set(200, "Cache-Control: max-age=60")
		if rec := h.get("/r"); isHit(rec) {
			t.Errorf("a body cut by a disconnect was stored: %q", rec.Body)
		}
	})
	t.Run("a cancelled request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = w.Write([]byte("part"))
			cancel()
		}
		req := httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(ctx)
		h.h.ServeHTTP(httptest.NewRecorder(), req)
		h.origin.set(200, "Cache-Control: max-age=60")
		if rec := h.get("/r"); isHit(rec) {
			t.Errorf("a cancelled response was stored: %q", rec.Body)
		}
	})
	t.Run("a body shorter than its Content-Length", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte("short"))
		}
		h.get("/r")
		h.origin.set(200, "Cache-Control: max-age=60")
		if rec := h.get("/r"); isHit(rec) {
			t.Errorf("a short body was stored: %q", rec.Body)
		}
	})
	t.Run("a body over MaxBodySize passes through unstored", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{MaxBodySize: 10})
		h.origin.set(200, "Cache-Control: max-age=60")
		h.origin.body = strings.Repeat("x", 11)
		if rec := h.get("/r"); rec.Body.Len() != 11 {
			t.Fatalf("body %d bytes", rec.Body.Len())
		}
		if rec := h.get("/r"); isHit(rec) {
			t.Error("an oversized body was stored")
		}
	})
	t.Run("RFC 9211 §2.3: a Content-Length over MaxBodySize is not announced as stored", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{MaxBodySize: 10})
		h.origin.set(200, "Cache-Control: max-age=60", "Content-Length: 11")
		h.origin.body = strings.Repeat("x", 11)
		rec := h.get("/r")
		if cs := cacheStatusOf(rec); cs != "hitbox; fwd=uri-miss; fwd-status=200" || rec.Body.Len() != 11 {
			t.Errorf("Cache-Status %q, body %d bytes", cs, rec.Body.Len())
		}
		if rec := h.get("/r"); isHit(rec) {
			t.Error("an oversized body was stored")
		}
	})
}

func TestBackendDown(t *testing.T) {
	t.Parallel()
	h0 := newHarness(t, Options{})
	fb := faulty.Wrap(mapstore.New(mapstore.Options{Now: h0.clock.Now}))
	h := newHarnessOver(t, Options{}, h0.clock, fb)
	h.origin.set(200, "Cache-Control: max-age=60")
	h.get("/r")
	fb.FailAll(&hitbox.Error{Op: "get", Backend: "redis", Err: hitbox.ErrUnavailable})
	for i := 0; i < 2; i++ {
		rec := h.get("/r")
		if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "body") {
			t.Fatalf("a backend outage became the user's error: %d %q", rec.Code, rec.Body)
		}
		if cs := cacheStatusOf(rec); cs != `hitbox; fwd=uri-miss; fwd-status=200; detail="backend unavailable"` {
			t.Errorf("Cache-Status %q", cs)
		}
	}
	if n := fb.Calls(hitbox.OpSet); n != 1 {
		t.Errorf("%d Set calls: a backend that failed the read was written to again", n)
	}
	rec := h.do(http.MethodPost, "/other")
	if rec.Code != 200 {
		t.Errorf("POST with the backend down: %d", rec.Code)
	}
	fb.Heal()
	if rec := h.get("/r"); !isHit(rec) {
		t.Errorf("after healing: %q", cacheStatusOf(rec))
	}
}

func TestCorruptStoredValueIsAMiss(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	h.get("/r")
	key := h.cache.primaryKey(httptest.NewRequest("GET", "http://example.com/r", nil))
	for _, v := range [][]byte{nil, {'R'}, {'I', 1, 2}, {'R', 0xff, 0, 1}, {'X'}} {
		_ = h.store.Set(context.Background(), key, hitbox.Entry{Value: v})
		rec := h.get("/r")
		if rec.Code != 200 || isHit(rec) {
			t.Errorf("damaged value %q: %d %q", v, rec.Code, cacheStatusOf(rec))
		}
	}
}

func TestWriterKeepsInterfaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	var mu sync.Mutex
	var problems []string
	fail := func(s string) { mu.Lock(); problems = append(problems, s); mu.Unlock() }
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			fail("ResponseController.SetWriteDeadline: " + err.Error())
		}
		switch r.URL.Path {
		case "/hijack":
			conn, brw, err := rc.Hijack()
			if err != nil {
				fail("Hijack: " + err.Error())
				return
			}
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = brw.Flush()
			conn.Close()
		case "/readfrom":
			w.Header().Set("Cache-Control", "max-age=60")
			if _, ok := w.(io.ReaderFrom); !ok {
				fail("io.ReaderFrom missing")
			}
			_, _ = io.Copy(w, strings.NewReader("copied"))
		case "/early":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = w.Write([]byte("final"))
			if err := rc.Flush(); err != nil {
				fail("Flush: " + err.Error())
			}
		}
	}
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	get := func(path string, trace *httptrace.ClientTrace) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if trace != nil {
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if _, body := get("/hijack", nil); body != "hijacked" {
		t.Errorf("http.Hijacker through the middleware: %q", body)
	}
	if _, body := get("/readfrom", nil); body != "copied" {
		t.Errorf("io.ReaderFrom: %q", body)
	}
	if resp, body := get("/readfrom", nil); body != "copied" || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("io.ReaderFrom body stored: %q %q", body, resp.Header.Get("Cache-Status"))
	}
	var interim []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
		interim = append(interim, code)
		return nil
	}}
	if _, body := get("/early", trace); body != "final" || len(interim) != 1 || interim[0] != 103 {
		t.Errorf("RFC 9110 §15.2: 1xx passed through: %v, body %q", interim, body)
	}
	interim = nil
	if resp, body := get("/early", trace); body != "final" || len(interim) != 0 || resp.StatusCode != 200 {
		t.Errorf("a 1xx was stored: %v %d %q", interim, resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// errWriter fails every write, as a gone client does.
type errWriter struct{ h http.Header }

func (e *errWriter) Header() http.Header               { return e.h }
func (e *errWriter) WriteHeader(int)                   {}
func (e *errWriter) Write([]byte) (int, error)         { return 0, errors.New("broken pipe") }
func (e *errWriter) ReadFrom(io.Reader) (int64, error) { return 0, errors.New("broken pipe") }

func TestFailedClientWriteIsNotStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	req := httptest.NewRequest("GET", "http://example.com/r", nil)
	h.h.ServeHTTP(&errWriter{h: http.Header{}}, req)
	if rec := h.get("/r"); isHit(rec) {
		t.Error("a response the client never got was stored")
	}
}

// plainWriter is a ResponseWriter with nothing but the three methods, as
// some wrappers are.
type plainWriter struct{ rec *httptest.ResponseRecorder }

func (p plainWriter) Header() http.Header         { return p.rec.Header() }
func (p plainWriter) WriteHeader(code int)        { p.rec.WriteHeader(code) }
func (p plainWriter) Write(b []byte) (int, error) { return p.rec.Write(b) }

func TestFlushOnAWriterThatCannotStillStores(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte("b"))
	}
	req := httptest.NewRequest("GET", "http://example.com/r", nil)
	h.h.ServeHTTP(plainWriter{httptest.NewRecorder()}, req)
	if rec := h.get("/r"); !isHit(rec) || rec.Body.String() != "ab" {
		t.Errorf("a Flush the writer below could not do stopped storing: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

// TestNoContentTypeIsNotSniffed checks over a real server that a hit for a
// response stored without Content-Type has none either (RFC 9111 §3.1):
// net/http sniffs one from the body unless told not to.
func TestNoContentTypeIsNotSniffed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush() // the header goes out without Content-Type
		_, _ = io.WriteString(w, "<html><body>")
	}
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	for _, want := range []string{"the miss", "the hit"} {
		resp, err := srv.Client().Get(srv.URL + "/r")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if ct := resp.Header.Values("Content-Type"); len(ct) > 0 {
			t.Errorf("%s (%q): Content-Type %q, want none, as the handler sent", want, resp.Header.Get("Cache-Status"), ct)
		}
	}
}
