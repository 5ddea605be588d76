package httpcache

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/internal/panics"
	"go.uber.org/goleak"
)

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		resp   []string
		after  time.Duration
		req    []string
		fail   func(w http.ResponseWriter, r *http.Request)
		stale  bool // the stale response answers
		status int  // else this status goes to the client
	}{
		{name: "RFC 5861 §4: a 500 within stale-if-error is answered with the stale response",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second, fail: status(500), stale: true},
		{name: "RFC 5861 §4: ... a 502",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second, fail: status(502), stale: true},
		{name: "RFC 5861 §4: ... a 503",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second, fail: status(503), stale: true},
		{name: "RFC 5861 §4: ... a 504",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second, fail: status(504), stale: true},
		{name: "RFC 5861 §4: a 404 is no error: it goes through",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second, fail: status(404), status: 404},
		{name: "RFC 5861 §4: past the window the error goes through",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 80 * time.Second, fail: status(500), status: 500},
		{name: "RFC 9111 §4.2.4: must-revalidate forbids it",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60, must-revalidate", `ETag: "x"`}, after: 30 * time.Second, fail: status(500), status: 500},
		{name: "RFC 9111 §5.2.2.8: proxy-revalidate forbids it in a shared cache",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60, proxy-revalidate", `ETag: "x"`}, after: 30 * time.Second, fail: status(500), status: 500},
		{name: "Options.StaleIfError is the default window",
			opts: Options{StaleIfError: time.Minute}, resp: []string{"Cache-Control: max-age=10"}, after: 30 * time.Second, fail: status(500), stale: true},
		{name: "RFC 5861 §4: the request's stale-if-error counts too",
			resp: []string{"Cache-Control: max-age=10", `ETag: "x"`}, req: []string{"Cache-Control: stale-if-error=60"}, after: 30 * time.Second, fail: status(500), stale: true},
		{name: "RFC 5861 §4: a handler panic before any byte is answered with the stale response",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second,
			fail: func(http.ResponseWriter, *http.Request) { panic("boom") }, stale: true},
		{name: "RFC 5861 §4: ... http.ErrAbortHandler too",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second,
			fail: func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }, stale: true},
		{name: "RFC 5861 §4: an origin that cannot be reached (a reverse proxy's 502)",
			resp: []string{"Cache-Control: max-age=10, stale-if-error=60"}, after: 30 * time.Second,
			fail: deadProxy(t), stale: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, tc.resp...)
			h.get("/r")
			h.clock.Advance(tc.after)
			h.origin.fn = tc.fail
			rec := h.get("/r", tc.req...)
			if tc.stale {
				if rec.Code != 200 || rec.Body.String() != "body 1" {
					t.Fatalf("want the stale response, got %d %q", rec.Code, rec.Body)
				}
				if cs := cacheStatusOf(rec); !strings.Contains(cs, "fwd=stale; fwd-status=5") {
					t.Errorf("Cache-Status %q", cs)
				}
				return
			}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
		})
	}
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Error", "1")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("error page"))
	}
}

// deadProxy is a reverse proxy to an origin that refuses connections.
func deadProxy(t *testing.T) func(http.ResponseWriter, *http.Request) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close()
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorLog = nil
	p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	return p.ServeHTTP
}

func TestPanicWithoutStaleIsReraised(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("part"))
		panic("boom")
	}
	if p := panics.Message(func() { h.get("/r") }); p != "boom" {
		t.Errorf("recovered %q, want the handler's panic", p)
	}
	h.origin.set(200, "Cache-Control: max-age=60")
	if rec := h.get("/r"); isHit(rec) {
		t.Error("a response cut by a panic was stored")
	}
}

// blockingOrigin answers refreshes only when released.
type blockingOrigin struct {
	called  chan *http.Request
	release chan struct{}
	answer  func(w http.ResponseWriter, r *http.Request)
}

func newBlocking(answer func(w http.ResponseWriter, r *http.Request)) *blockingOrigin {
	return &blockingOrigin{called: make(chan *http.Request, 16), release: make(chan struct{}), answer: answer}
}

func (b *blockingOrigin) serve(w http.ResponseWriter, r *http.Request) {
	b.called <- r
	select {
	case <-b.release:
	case <-r.Context().Done():
		return
	}
	b.answer(w, r)
}

func TestStaleWhileRevalidate(t *testing.T) {
	// Not parallel: goleak checks that no goroutine outlives Close.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h := newHarness(t, Options{DetachedRefresh: true})
	h.origin.set(200, "Cache-Control: max-age=10, stale-while-revalidate=60", `ETag: "v1"`)
	h.get("/r")
	h.clock.Advance(20 * time.Second)

	b := newBlocking(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		w.Header().Set("ETag", `"v2"`)
		_, _ = w.Write([]byte("refreshed"))
	})
	h.origin.fn = b.serve
	// RFC 5861 §3: the stale response is served at once, while the
	// refresh is held.
	rec := h.get("/r")
	if !isHit(rec) || rec.Body.String() != "body 1" {
		t.Fatalf("stale response: %q %q", cacheStatusOf(rec), rec.Body)
	}
	if cs := cacheStatusOf(rec); !strings.Contains(cs, "ttl=-10") {
		t.Errorf("Cache-Status %q, want a negative ttl", cs)
	}
	refresh := <-b.called
	if got := refresh.Header.Get("If-None-Match"); got != `"v1"` {
		t.Errorf("the refresh is a validation: If-None-Match %q", got)
	}
	// One refresh per key: a second stale hit starts none.
	if rec := h.get("/r"); rec.Body.String() != "body 1" {
		t.Fatalf("second stale response: %q", rec.Body)
	}
	close(b.release)
	_ = h.cache.Close() // waits for the refresh to be stored
	if n := h.origin.count(); n != 2 {
		t.Errorf("%d origin calls, want 2 (one store, one refresh)", n)
	}
	rec = h.get("/r")
	if !isHit(rec) || rec.Body.String() != "refreshed" {
		t.Errorf("after the refresh: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

func TestStaleWhileRevalidateBounds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("Options.MaxBackground bounds refreshes; the stale response is still served", func(t *testing.T) {
		h := newHarness(t, Options{MaxBackground: 1, StaleWhileRevalidate: time.Minute, DetachedRefresh: true})
		h.origin.set(200, "Cache-Control: max-age=10")
		h.get("/a")
		h.get("/b")
		h.clock.Advance(20 * time.Second)
		b := newBlocking(status(200))
		h.origin.fn = b.serve
		h.get("/a")
		<-b.called
		if rec := h.get("/b"); !isHit(rec) || rec.Body.String() != "body 2" {
			t.Errorf("/b: %q %q", cacheStatusOf(rec), rec.Body)
		}
		close(b.release)
		_ = h.cache.Close()
		if n := h.origin.count(); n != 3 {
			t.Errorf("%d origin calls, want 3: /b was not refreshed", n)
		}
	})
	t.Run("Close with a negative DrainTimeout cancels a running refresh and waits for it", func(t *testing.T) {
		h := newHarness(t, Options{StaleWhileRevalidate: time.Minute, DrainTimeout: -1, DetachedRefresh: true})
		h.origin.set(200, "Cache-Control: max-age=10")
		h.get("/a")
		h.clock.Advance(20 * time.Second)
		var sawErr error
		var mu sync.Mutex
		started := make(chan struct{})
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
			mu.Lock()
			sawErr = r.Context().Err()
			mu.Unlock()
		}
		h.get("/a")
		<-started
		_ = h.cache.Close()
		_ = h.cache.Close() // idempotent
		mu.Lock()
		defer mu.Unlock()
		if !errors.Is(sawErr, context.Canceled) {
			t.Errorf("the refresh saw %v, want context.Canceled", sawErr)
		}
	})
	t.Run("Close cancels a refresh still running after DrainTimeout", func(t *testing.T) {
		h := newHarness(t, Options{StaleWhileRevalidate: time.Minute, DrainTimeout: time.Millisecond, DetachedRefresh: true})
		h.origin.set(200, "Cache-Control: max-age=10")
		h.get("/a")
		h.clock.Advance(20 * time.Second)
		errc := make(chan error, 1)
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			errc <- r.Context().Err()
		}
		h.get("/a")
		_ = h.cache.Close() // returns once the refresh has ended
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("the refresh saw %v, want context.Canceled", err)
			}
		default:
			// Cancelled before it reached the origin: ended all the same.
		}
	})
	t.Run("Options.RevalidateTimeout bounds a refresh", func(t *testing.T) {
		h := newHarness(t, Options{StaleWhileRevalidate: time.Minute, RevalidateTimeout: time.Millisecond, DetachedRefresh: true})
		h.origin.set(200, "Cache-Control: max-age=10")
		h.get("/a")
		h.clock.Advance(20 * time.Second)
		errc := make(chan error, 1)
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			errc <- r.Context().Err()
		}
		h.get("/a")
		closed := make(chan struct{})
		go func() { _ = h.cache.Close(); close(closed) }() // returns once the refresh has ended
		select {
		case err := <-errc:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the refresh saw %v, want context.DeadlineExceeded", err)
			}
		case <-closed:
			// The deadline ended the refresh before it reached the origin
			// (its lease took longer than a millisecond): bounded too.
			select {
			case err := <-errc:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("the refresh saw %v, want context.DeadlineExceeded", err)
				}
			default:
			}
		}
		<-closed
	})
	t.Run("RFC 9111 §4.2.4: Options.StaleWhileRevalidate does not serve a response that never had freshness", func(t *testing.T) {
		h := newHarness(t, Options{StaleWhileRevalidate: time.Minute})
		h.origin.set(200, `ETag: "v1"`) // stored for its validator only
		h.get("/a")
		h.origin.set(200, `ETag: "v2"`)
		if rec := h.get("/a"); isHit(rec) || rec.Body.String() != "body 2" {
			t.Errorf("want a validation before use: %q %q", cacheStatusOf(rec), rec.Body)
		}
		_ = h.cache.Close()
	})
	t.Run("RFC 9111 §4.2.4: must-revalidate forbids stale-while-revalidate", func(t *testing.T) {
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=10, stale-while-revalidate=60, must-revalidate")
		h.get("/a")
		h.clock.Advance(20 * time.Second)
		if rec := h.get("/a"); isHit(rec) || rec.Body.String() != "body 2" {
			t.Errorf("%q %q", cacheStatusOf(rec), rec.Body)
		}
		_ = h.cache.Close()
	})
	t.Run("by default the refresh runs on the request's goroutine: done when the request returns", func(t *testing.T) {
		h := newHarness(t, Options{StaleWhileRevalidate: time.Minute})
		h.origin.set(200, "Cache-Control: max-age=10")
		h.get("/a")
		h.clock.Advance(20 * time.Second)
		if rec := h.get("/a"); rec.Body.String() != "body 1" {
			t.Errorf("stale response: %q", rec.Body)
		}
		if rec := h.get("/a"); !isHit(rec) || rec.Body.String() != "body 2" {
			t.Errorf("after the inline refresh: %q %q", cacheStatusOf(rec), rec.Body)
		}
	})
}

// TestCloseDrains checks that Close lets a running refresh finish and store
// its response (Options.DrainTimeout) before it cancels it. The origin is
// released only once Close has begun, after any immediate cancellation, so
// each case has one outcome.
func TestCloseDrains(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cases := []struct {
		name  string
		drain time.Duration
		want  string // body stored after Close
	}{
		{name: "by default a refresh released while Close waits is stored", want: "refreshed"},
		{name: "a negative DrainTimeout cancels at once: the stale response stays", drain: -1, want: "body 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{DrainTimeout: tc.drain, DetachedRefresh: true})
			h.origin.set(200, "Cache-Control: max-age=10, stale-while-revalidate=60")
			h.get("/r")
			h.clock.Advance(20 * time.Second)
			called, release := make(chan struct{}), make(chan struct{})
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				close(called)
				<-release
				if r.Context().Err() != nil {
					return // gave up, as a handler may, without a sign
				}
				w.Header().Set("Cache-Control", "max-age=600")
				_, _ = w.Write([]byte("refreshed"))
			}
			h.cache.bg.draining = func() { close(release) }
			if rec := h.get("/r"); rec.Body.String() != "body 1" {
				t.Fatalf("stale response: %q", rec.Body)
			}
			<-called
			_ = h.cache.Close()
			h.origin.fn = status(500)
			if rec := h.get("/r"); rec.Body.String() != tc.want {
				t.Errorf("after Close: %q %q, want %q", cacheStatusOf(rec), rec.Body, tc.want)
			}
		})
	}
}
