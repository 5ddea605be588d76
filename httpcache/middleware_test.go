package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// reuseCase is a rule checked with two requests: the first reaches the
// origin, which answers with status and resp; after the clock moved by
// after, the second (req2, or req again) is either answered from the cache
// (reuse) or sent to the origin.
type reuseCase struct {
	name   string // the rule, naming the RFC section
	opts   Options
	method string // of the first request; GET when empty
	req    []string
	status int
	resp   []string
	after  time.Duration
	req2   []string
	reuse  bool
}

func runReuse(t *testing.T, cases []reuseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(tc.status, tc.resp...)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			h.do(method, "/r", tc.req...)
			h.clock.Advance(tc.after)
			req2 := tc.req2
			if req2 == nil {
				req2 = tc.req
			}
			rec := h.get("/r", req2...)
			reused := h.origin.count() == 1
			if reused != tc.reuse {
				t.Fatalf("reused = %v, want %v (Cache-Status %q)", reused, tc.reuse, cacheStatusOf(rec))
			}
		})
	}
}

func TestStoringRules(t *testing.T) {
	t.Parallel()
	runReuse(t, []reuseCase{
		{name: "§3: a 200 with max-age is stored and reused",
			resp: []string{"Cache-Control: max-age=60"}, after: time.Second, reuse: true},
		{name: "§3: a HEAD response is not stored for a later GET",
			method: "HEAD", resp: []string{"Cache-Control: max-age=60"}, after: time.Second},
		{name: "§5.2.2.5: no-store in the response prevents storing",
			resp: []string{"Cache-Control: max-age=60, no-store"}, after: time.Second},
		{name: "§5.2.2.5: directive names are case-insensitive (NO-STORE)",
			resp: []string{"Cache-Control: max-age=60, NO-STORE"}, after: time.Second},
		{name: "§5.2.1.5: no-store in the request prevents storing the response",
			req: []string{"Cache-Control: no-store"}, resp: []string{"Cache-Control: max-age=60"}, after: time.Second,
			req2: []string{}},
		{name: "§5.2.2.7: private is not stored by a shared cache",
			resp: []string{"Cache-Control: max-age=60, private"}, after: time.Second},
		{name: "§5.2.2.7: private is stored by a private cache",
			opts: Options{Private: true}, resp: []string{"Cache-Control: max-age=60, private"}, after: time.Second, reuse: true},
		{name: "§5.2.2.7: private with field names is stored by a shared cache, without those fields",
			resp: []string{"Cache-Control: max-age=60, private=\"X-User\"", "X-User: alice"}, after: time.Second, reuse: true},
		{name: "§3.5: a response to a request with Authorization is not stored by a shared cache",
			req: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60"}, after: time.Second},
		{name: "§3.5: ... unless public allows it",
			req: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60, public"}, after: time.Second, reuse: true},
		{name: "§3.5: ... or s-maxage",
			req: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: s-maxage=60"}, after: time.Second, reuse: true},
		{name: "§3.5: ... or must-revalidate",
			req: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60, must-revalidate"}, after: time.Second, reuse: true},
		{name: "Set-Cookie responses are not stored by default",
			resp: []string{"Cache-Control: max-age=60", "Set-Cookie: a=b"}, after: time.Second},
		{name: "Set-Cookie responses are stored when Options.StoreSetCookie says so",
			opts: Options{StoreSetCookie: true}, resp: []string{"Cache-Control: max-age=60", "Set-Cookie: a=b"}, after: time.Second, reuse: true},
		{name: "§5.2.2.7: Set-Cookie named by a qualified private is dropped, so the response is stored",
			resp: []string{"Cache-Control: max-age=60, private=set-cookie", "Set-Cookie: a=b"}, after: time.Second, reuse: true},
		{name: "§5.2.2.3: must-understand with an understood status ignores no-store",
			resp: []string{"Cache-Control: max-age=60, no-store, must-understand"}, after: time.Second, reuse: true},
		{name: "§5.2.2.3: must-understand with a status not understood is not stored",
			status: 299, resp: []string{"Cache-Control: max-age=60, must-understand"}, after: time.Second},
		{name: "§5.2.2.3: must-understand alone makes nothing storable (302, no-store, no freshness)",
			status: 302, resp: []string{"Location: /x", "Cache-Control: no-store, must-understand"}, after: time.Second},
		{name: "§3: a 206 is never stored as a complete response",
			status: 206, resp: []string{"Cache-Control: max-age=60", "Content-Range: bytes 0-5/10"}, after: time.Second},
		{name: "§3: a status not heuristically cacheable without explicit freshness is not stored (302)",
			status: 302, resp: []string{"Location: /x", "Last-Modified: Sat, 01 Mar 2025 12:00:00 GMT"}, after: time.Second},
		{name: "§3: explicit freshness makes any final status storable (302 with max-age)",
			status: 302, resp: []string{"Location: /x", "Cache-Control: max-age=60"}, after: time.Second, reuse: true},
		{name: "§4.1: Vary: * is never reused",
			resp: []string{"Cache-Control: max-age=60", "Vary: *"}, after: time.Second},
		{name: "§5.2.2.4: no-cache stores but never reuses without validation",
			resp: []string{"Cache-Control: max-age=60, no-cache"}, after: time.Second},
	})
}

func TestFreshnessRules(t *testing.T) {
	t.Parallel()
	lastMod := t0.Add(-100 * time.Hour).Format(http.TimeFormat)
	runReuse(t, []reuseCase{
		{name: "§4.2.1: fresh while age < max-age",
			resp: []string{"Cache-Control: max-age=60"}, after: 59 * time.Second, reuse: true},
		{name: "§4.2.1: stale once age reaches max-age",
			resp: []string{"Cache-Control: max-age=60"}, after: 60 * time.Second},
		{name: "§5.2.2.10: s-maxage overrides max-age in a shared cache",
			resp: []string{"Cache-Control: max-age=600, s-maxage=10"}, after: 20 * time.Second},
		{name: "§5.2.2.10: a private cache ignores s-maxage",
			opts: Options{Private: true}, resp: []string{"Cache-Control: max-age=600, s-maxage=10"}, after: 20 * time.Second, reuse: true},
		{name: "§4.2.1: Expires minus Date gives the lifetime",
			resp: []string{"Expires: " + t0.Add(100*time.Second).Format(http.TimeFormat)}, after: 99 * time.Second, reuse: true},
		{name: "§5.3: an invalid Expires means already expired",
			resp: []string{"Expires: 0"}, after: time.Second},
		{name: "§4.2.1: max-age wins over Expires",
			resp: []string{"Cache-Control: max-age=10", "Expires: " + t0.Add(time.Hour).Format(http.TimeFormat)}, after: 20 * time.Second},
		{name: "§4.2.3: an incoming Age counts against the lifetime",
			resp: []string{"Cache-Control: max-age=60", "Age: 50"}, after: 11 * time.Second},
		{name: "§5.1: an invalid Age is ignored",
			resp: []string{"Cache-Control: max-age=60", "Age: abc"}, after: 30 * time.Second, reuse: true},
		{name: "§4.2.2: heuristic freshness from Last-Modified (10% of 100h = 10h)",
			resp: []string{"Last-Modified: " + lastMod}, after: 9 * time.Hour, reuse: true},
		{name: "§4.2.2: ... and not past it",
			resp: []string{"Last-Modified: " + lastMod}, after: 11 * time.Hour},
		{name: "§4.2.2: Options.MaxHeuristic caps heuristic freshness",
			opts: Options{MaxHeuristic: time.Hour}, resp: []string{"Last-Modified: " + lastMod}, after: 2 * time.Hour},
		{name: "§4.2.2: no heuristic for a status not heuristically cacheable (RFC 9110 §15.1)",
			status: 302, resp: []string{"Location: /y", "Last-Modified: " + lastMod}, after: time.Second},
		{name: "Options.DefaultTTL gives freshness to a response with none",
			opts: Options{DefaultTTL: time.Minute}, after: 30 * time.Second, reuse: true},
		{name: "§4.2.1: a duplicated max-age with different values is treated as stale",
			resp: []string{"Cache-Control: max-age=60, max-age=120"}, after: time.Second},
		{name: "§5.2: a quoted max-age is accepted",
			resp: []string{"Cache-Control: max-age=\"60\""}, after: 30 * time.Second, reuse: true},
		{name: "without any freshness or validator nothing is reused",
			after: time.Second},
	})
}

func TestRequestDirectives(t *testing.T) {
	t.Parallel()
	runReuse(t, []reuseCase{
		{name: "§5.2.1.1: max-age in the request refuses an older response",
			resp: []string{"Cache-Control: max-age=600"}, after: 30 * time.Second, req2: []string{"Cache-Control: max-age=10"}},
		{name: "§5.2.1.1: ... and accepts a younger one",
			resp: []string{"Cache-Control: max-age=600"}, after: 5 * time.Second, req2: []string{"Cache-Control: max-age=10"}, reuse: true},
		{name: "§5.2.1.3: min-fresh refuses a response fresh for less than asked",
			resp: []string{"Cache-Control: max-age=60"}, after: 30 * time.Second, req2: []string{"Cache-Control: min-fresh=40"}},
		{name: "§5.2.1.2: max-stale accepts a stale response within its bound",
			resp: []string{"Cache-Control: max-age=60"}, after: 70 * time.Second, req2: []string{"Cache-Control: max-stale=20"}, reuse: true},
		{name: "§5.2.1.2: ... but not past it",
			resp: []string{"Cache-Control: max-age=60"}, after: 90 * time.Second, req2: []string{"Cache-Control: max-stale=20"}},
		{name: "§5.2.1.2: a bare max-stale accepts any staleness",
			resp: []string{"Cache-Control: max-age=60"}, after: time.Hour, req2: []string{"Cache-Control: max-stale"}, reuse: true},
		{name: "§5.2.2.2: must-revalidate forbids max-stale",
			resp: []string{"Cache-Control: max-age=60, must-revalidate"}, after: 70 * time.Second, req2: []string{"Cache-Control: max-stale=20"}},
		{name: "§5.2.2.8: proxy-revalidate forbids max-stale in a shared cache",
			resp: []string{"Cache-Control: max-age=60, proxy-revalidate"}, after: 70 * time.Second, req2: []string{"Cache-Control: max-stale=20"}},
		{name: "§5.2.1.4: no-cache in the request goes to the origin",
			resp: []string{"Cache-Control: max-age=600"}, after: time.Second, req2: []string{"Cache-Control: no-cache"}},
		{name: "§5.4: Pragma: no-cache without Cache-Control goes to the origin",
			resp: []string{"Cache-Control: max-age=600"}, after: time.Second, req2: []string{"Pragma: no-cache"}},
		{name: "§5.4: Pragma is ignored when Cache-Control is present",
			resp: []string{"Cache-Control: max-age=600"}, after: time.Second, req2: []string{"Pragma: no-cache", "Cache-Control: max-age=600"}, reuse: true},
		{name: "§5.2.1.5: no-store in the request may still be answered from the cache",
			resp: []string{"Cache-Control: max-age=600"}, after: time.Second, req2: []string{"Cache-Control: no-store"}, reuse: true},
	})
}

func TestOnlyIfCached(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	// §5.2.1.7: nothing stored: 504, origin untouched.
	rec := h.get("/r", "Cache-Control: only-if-cached")
	if rec.Code != http.StatusGatewayTimeout || h.origin.count() != 0 {
		t.Fatalf("empty cache: %d after %d origin calls, want 504 and none", rec.Code, h.origin.count())
	}
	if cs := rec.Header().Values("Cache-Status"); len(cs) != 0 {
		t.Errorf("RFC 9211 §2: the cache's own 504 carries Cache-Status %q", cs)
	}
	h.get("/r")
	rec = h.get("/r", "Cache-Control: only-if-cached")
	if rec.Code != 200 || h.origin.count() != 1 {
		t.Fatalf("stored: %d after %d origin calls", rec.Code, h.origin.count())
	}
	h.clock.Advance(2 * time.Minute)
	rec = h.get("/r", "Cache-Control: only-if-cached")
	if rec.Code != http.StatusGatewayTimeout || h.origin.count() != 1 {
		t.Fatalf("stale: %d after %d origin calls, want 504", rec.Code, h.origin.count())
	}
}

func TestAgeAndDate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.noDate = true
	h.origin.set(200, "Cache-Control: max-age=600", "Age: 5")
	first := h.get("/r")
	date := first.Header().Get("Date")
	if date != t0.Format(http.TimeFormat) {
		t.Errorf("RFC 9110 §6.6.1: Date on the miss = %q, want the cache's clock", date)
	}
	h.clock.Advance(20 * time.Second)
	rec := h.get("/r")
	// §4.2.3: corrected_initial_age = max(apparent 0, 5 + delay 0) = 5; plus 20 resident.
	if got := rec.Header().Get("Age"); got != "25" {
		t.Errorf("§4.2.3: Age = %q, want 25", got)
	}
	if got := rec.Header().Get("Date"); got != date {
		t.Errorf("the stored Date = %q, want %q", got, date)
	}
	if n := len(rec.Header().Values("Age")); n != 1 {
		t.Errorf("%d Age lines, want 1", n)
	}
}

func TestHeaderStorage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=600, private=\"X-Secret\"", "X-Multi: one", "X-Multi: two",
		"Connection: X-Hop", "X-Hop: 1", "Proxy-Authenticate: Basic", "X-Secret: s", "Keep-Alive: timeout=5")
	h.get("/r")
	rec := h.get("/r")
	if !isHit(rec) {
		t.Fatalf("not a hit: %q", cacheStatusOf(rec))
	}
	hdr := rec.Header()
	if got := hdr.Values("X-Multi"); strings.Join(got, "|") != "one|two" {
		t.Errorf("§3.1: repeated field lines = %q, want both in order", got)
	}
	for _, f := range []string{"X-Hop", "Connection", "Proxy-Authenticate", "X-Secret", "Keep-Alive"} {
		if v := hdr.Values(f); len(v) > 0 {
			t.Errorf("§3.1: %s = %q was stored", f, v)
		}
	}
}

func TestCacheStatusValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{CacheName: "edge", ShowKey: true})
	h.origin.set(200, "Cache-Control: max-age=60", "Cache-Status: origin-cache; hit")
	rec := h.get("/r?q=1")
	v := rec.Header().Values("Cache-Status")
	if len(v) != 2 || v[0] != "origin-cache; hit" || !strings.HasPrefix(v[1], "edge; fwd=uri-miss; fwd-status=200; stored; ttl=60; key=") {
		t.Errorf("RFC 9211 §2: Cache-Status = %q: want the upstream member first and ours last", v)
	}
	rec = h.do(http.MethodPost, "/r")
	if got := cacheStatusOf(rec); got != "edge; fwd=method; fwd-status=200" {
		t.Errorf("POST: %q", got)
	}
}

func TestContentLengthOnHit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	h.get("/r")
	rec := h.get("/r")
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(len("body 1")); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
	head := h.do(http.MethodHead, "/r")
	if !isHit(head) || head.Body.Len() != 0 {
		t.Errorf("§4: HEAD from a stored GET: %q, body %q", cacheStatusOf(head), head.Body)
	}
}

func TestFieldsOfAnOuterHandlerAreNotStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	n := 0
	inner := h.h
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("X-Request-Id", strconv.Itoa(n))
		inner.ServeHTTP(w, r)
	})
	h.h = outer
	h.get("/r")
	rec := h.get("/r")
	if !isHit(rec) {
		t.Fatalf("not a hit: %q", cacheStatusOf(rec))
	}
	if got := rec.Header().Values("X-Request-Id"); len(got) != 1 || got[0] != "2" {
		t.Errorf("X-Request-Id = %q: a field set around the middleware was stored with the response", got)
	}
}

// reusedWriter is a ResponseWriter that allocates nothing once warm: its
// header map is cleared, not replaced, between requests, so what a request
// allocates is the middleware's.
type reusedWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) WriteHeader(code int)        { w.status = code }
func (w *reusedWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestHitAllocations: a fresh hit answered by the front of hot responses
// allocates nothing over a store that stamps its keys (hitbox.Stamper),
// which the front does not read, and only the store's copy of the value
// over one that does not (mapstore's Get clones it): the key is rendered
// on the stack and found in the front, the stored fields, Age and
// Cache-Status are the front's, and no exchange is made. It guards the
// hit path's allocations, which a benchmark would only report.
func TestHitAllocations(t *testing.T) { // not parallel: AllocsPerRun
	for _, tc := range []struct {
		name     string
		noStamps bool
		most     float64
	}{
		{"a stamped store", false, 0},
		{"a store without stamps", true, 1},
	} {
		body := strings.Repeat("x", 1024)
		c := New(mapstore.New(mapstore.Options{NoStamps: tc.noStamps}), Options{})
		defer c.Close()
		h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Etag", `"v1"`)
			_, _ = io.WriteString(w, body)
		}))
		req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
		w := &reusedWriter{h: http.Header{}}
		h.ServeHTTP(w, req) // stored
		serve := func() {
			clear(w.h)
			w.n = 0
			h.ServeHTTP(w, req)
		}
		serve()
		if cs := w.h.Get("Cache-Status"); !strings.Contains(cs, "hit") || w.n != len(body) {
			t.Fatalf("%s: Cache-Status %q, %d bytes: want a hit of %d", tc.name, cs, w.n, len(body))
		}
		if n := testing.AllocsPerRun(200, serve); n > tc.most {
			t.Errorf("%s: a hit allocates %v times, want at most %v", tc.name, n, tc.most)
		}
	}
}

// TestMissAllocations bounds what a miss allocates, the store's copies
// included: one plain GET whose response is stored, through mapstore,
// the clock moved past the last response's keep time before each. It
// guards the miss path's allocations, which a benchmark would only
// report (BenchmarkMiss measures its time).
func TestMissAllocations(t *testing.T) { // not parallel: AllocsPerRun
	body := strings.Repeat("x", 1024)
	clock := hitboxtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := New(mapstore.New(mapstore.Options{Now: clock.Now}), Options{Now: clock.Now})
	defer c.Close()
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"} // no allocation of the handler's own
		w.Header()["Cache-Control"] = []string{"max-age=1"}
		_, _ = io.WriteString(w, body)
	}))
	req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
	w := &reusedWriter{h: http.Header{}}
	serve := func() {
		clock.Advance(48 * time.Hour)
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, req)
	}
	serve()
	if cs := w.h.Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") || !strings.Contains(cs, "stored") || w.n != len(body) {
		t.Fatalf("Cache-Status %q, %d bytes: want a stored miss of %d", cs, w.n, len(body))
	}
	const most, mostBytes = 15, 5350
	if n := testing.AllocsPerRun(200, serve); n > most {
		t.Errorf("a miss allocates %v times, want at most %d", n, most)
	}
	// Bytes too: an exchange's size class (see exchangeBuf) moves them
	// without moving the count.
	if raceEnabled {
		return
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 200
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	if n := (after.TotalAlloc - before.TotalAlloc) / runs; n > mostBytes {
		t.Errorf("a miss allocates %d bytes, want at most %d", n, mostBytes)
	}
}
