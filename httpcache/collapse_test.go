package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// guard is how long a test lets requests run that should not wait at all,
// before it reports them stuck and unblocks them. It never paces a test.
const guard = 10 * time.Second

// TestCollapsingReleasesAtHeader: when the leader's response turns out not
// shareable, or never ends, the waiters learn it from the header and go
// to the handler at once, not when the leader's body ends.
func TestCollapsingReleasesAtHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts Options
		// send writes the leader's header and the start of its body; the
		// rest never comes while the waiters are measured.
		send func(w http.ResponseWriter)
	}{
		{"no-store", Options{}, func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, "part")
		}},
		{"private", Options{}, func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "private, max-age=60")
			_, _ = io.WriteString(w, "part")
		}},
		{"over the body cap by Content-Length", Options{MaxBodySize: 16}, func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, "part")
		}},
		{"over the body cap as it grows, without a length", Options{MaxBodySize: 16}, func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = io.WriteString(w, strings.Repeat("x", 32))
		}},
		{"an endless event stream", Options{}, func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: 1\n\n")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 5
			h := newHarness(t, tc.opts)
			joined := make(chan struct{}, n)
			h.cache.flights.waiting = func() { joined <- struct{}{} }
			entered, header, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
			var calls atomic.Int32
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) > 1 {
					w.Header().Set("Cache-Control", "no-store")
					_, _ = io.WriteString(w, "own")
					return
				}
				close(entered)
				<-header
				tc.send(w)
				w.(http.Flusher).Flush()
				<-release
			}
			var leader sync.WaitGroup
			leader.Add(1)
			go func() { defer leader.Done(); h.get("/r") }()
			defer leader.Wait()
			<-entered
			var waiters sync.WaitGroup
			for range n {
				waiters.Add(1)
				go func() {
					defer waiters.Done()
					if rec := h.get("/r"); rec.Body.String() != "own" {
						t.Errorf("a waiter got %q, want its own response", rec.Body)
					}
				}()
			}
			for range n {
				<-joined
			}
			close(header)
			done := make(chan struct{})
			go func() { waiters.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(guard):
				t.Error("the waiters still wait for a response they cannot share")
			}
			// A client arriving now is not held up either.
			late := make(chan struct{})
			go func() { defer close(late); h.get("/r") }()
			select {
			case <-late:
			case <-time.After(guard):
				t.Error("a later client waits on the leader's body")
			}
			close(release)
			<-done
			<-late
		})
	}
}

// TestCollapsingLeaderLeaves: the first client of a slow miss leaving does
// not abandon the response the others wait for: one handler call serves
// all, and it is stored.
func TestCollapsingLeaderLeaves(t *testing.T) {
	t.Parallel()
	const n = 20
	h := newHarness(t, Options{})
	joined := make(chan struct{}, n)
	h.cache.flights.waiting = func() { joined <- struct{}{} }
	entered, release := make(chan struct{}, n+1), make(chan struct{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return // a proxy's origin request is cancelled with it
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "shared")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(ctx))
	}()
	<-entered
	got := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = h.get("/r").Body.String() }()
	}
	for range n {
		<-joined
	}
	cancel()
	close(release)
	wg.Wait()
	if c := h.origin.count(); c != 1 {
		t.Errorf("%d waiters and a leader that left made %d handler calls, want 1", n, c)
	}
	for i, b := range got {
		if b != "shared" {
			t.Errorf("waiter %d got %q", i, b)
		}
	}
	if rec := h.get("/r"); !isHit(rec) {
		t.Errorf("the response was not stored: %q", cacheStatusOf(rec))
	}
}

// TestStoredWhenClientClosesAtTheEnd: a response whose whole declared
// length was written is stored even when its client is gone by the time
// the handler returns.
func TestStoredWhenClientClosesAtTheEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "whole")
		cancel() // the client read it all and closed
	}
	h.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(ctx))
	if rec := h.get("/r"); !isHit(rec) || rec.Body.String() != "whole" {
		t.Errorf("a complete response was not stored: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

// TestFillContext: the context a flight's leader hands its handler (the
// fill) carries the client's values, hands the contexts derived from it
// their cancellation without a goroutine each (an outgoing request's
// context in a proxy), and once the client leaves with no one waiting it
// is cancelled with context.Canceled as its cause, not the client's, and
// so are the contexts derived from it.
func TestFillContext(t *testing.T) { // not parallel: it counts goroutines
	type ctxKey struct{}
	h := newHarness(t, Options{})
	clientGone := errors.New("client gone")
	client, leave := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
	var value any
	var added int
	var err, cause, childErr, childCause error
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		value = ctx.Value(ctxKey{})
		before := runtime.NumGoroutine()
		var children []context.Context
		for range 50 {
			c, cancel := context.WithCancel(ctx)
			defer cancel()
			children = append(children, c)
		}
		added = runtime.NumGoroutine() - before
		leave(clientGone)
		select {
		case <-children[0].Done():
		case <-time.After(guard):
			t.Error("the handler's context was not cancelled when its client left")
		}
		err, cause = ctx.Err(), context.Cause(ctx)
		childErr, childCause = children[0].Err(), context.Cause(children[0])
	}
	h.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(client))
	if value != "v" {
		t.Errorf("the handler's context gave the value %v, want the client's", value)
	}
	if added > 25 {
		t.Errorf("50 contexts derived from the handler's started %d goroutines", added)
	}
	if err != context.Canceled || cause != context.Canceled {
		t.Errorf("the handler's context: Err %v, Cause %v; want %v for both", err, cause, context.Canceled)
	}
	if childErr != context.Canceled || childCause != context.Canceled {
		t.Errorf("a derived context: Err %v, Cause %v; want %v for both", childErr, childCause, context.Canceled)
	}
}

// TestFillWatchedForWaiters: a leader whose handler never looks at its
// context still has its client watched once a request waits for it, so
// the call without its client is bounded by RevalidateTimeout: the fill
// is cancelled after the client leaves (the handler's body, of unknown
// length, is then not taken as whole).
func TestFillWatchedForWaiters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{RevalidateTimeout: time.Millisecond})
	joined := make(chan struct{}, 1)
	h.cache.flights.waiting = func() { joined <- struct{}{} }
	entered, release := make(chan struct{}), make(chan struct{})
	h.origin.fn = func(w http.ResponseWriter, _ *http.Request) {
		if h.origin.count() == 1 {
			close(entered)
			<-release // never looking at its context
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "body")
	}
	client, leave := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		h.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/r", nil).WithContext(client))
	}()
	<-entered
	go func() { defer wg.Done(); h.get("/r") }()
	<-joined
	h.cache.flights.mu.Lock()
	var fl *flight
	for _, f := range h.cache.flights.m {
		fl = f
	}
	h.cache.flights.mu.Unlock()
	leave()
	deadline := time.Now().Add(guard)
	for !fl.fill.cancelled() && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if !fl.fill.cancelled() {
		t.Error("a leader's call went on past RevalidateTimeout after its client left, a request waiting for it")
	}
	close(release)
	wg.Wait()
}
