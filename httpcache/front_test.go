package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// frontHolds reports whether the front holds a decoded response (not a
// tombstone) for the URI target.
func frontHolds(c *Cache, target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	key := c.keyOfURL(u)
	sh := c.front.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	he := sh.m[key]
	return he != nil && !he.unusable
}

// warm reads target until the front holds it (the doorkeeper admits a
// key on its second read).
func (h *harness) warm(target string) {
	h.t.Helper()
	for range 3 {
		h.get(target)
	}
	if !frontHolds(h.cache, "http://example.com"+target) {
		h.t.Fatalf("the front does not hold %s", target)
	}
}

// TestFrontAnswersAsWithout checks that a response answered from the
// front is the one the usual path gives for the same stored response, at
// every age, for GET and HEAD: the same status, fields and body.
func TestFrontAnswersAsWithout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fields []string
	}{
		{"plain", []string{"Cache-Control: max-age=10", "Content-Type: text/plain"}},
		{"no Content-Type: none is sniffed", []string{"Cache-Control: max-age=10"}},
		{"an upstream Cache-Status, which this cache's member follows", []string{"Cache-Control: max-age=10", "Cache-Status: up; hit"}},
		{"an Age from upstream", []string{"Cache-Control: max-age=10", "Age: 3"}},
		{"tag and targeted fields are stripped", []string{"Cache-Control: max-age=100", "CDN-Cache-Control: max-age=10", "Surrogate-Key: a b"}},
		{"several lines of one field", []string{"Cache-Control: max-age=10", "Link: <a>", "Link: <b>", "X-Two: 1"}},
		{"a wrong Content-Length is replaced", []string{"Cache-Control: max-age=10", "Content-Length: 99"}},
		{"a 404 with freshness", []string{"Cache-Control: max-age=10"}},
		{"Expires", []string{"Expires: " + t0.Add(10*time.Second).Format(http.TimeFormat)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			with := newHarness(t, Options{})
			without := newHarness(t, Options{FrontBytes: -1})
			for _, h := range []*harness{with, without} {
				h.origin.body = "the body"
				h.origin.set(200, tc.fields...)
				if strings.HasPrefix(tc.name, "a 404") {
					h.origin.set(404, tc.fields...)
				}
				h.get("/a")
			}
			if with.cache.front == nil || without.cache.front != nil {
				t.Fatal("FrontBytes: the front is not as asked")
			}
			for _, step := range []time.Duration{0, 0, 0, 2 * time.Second, 5 * time.Second, 20 * time.Second} {
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					with.clock.Advance(step)
					without.clock.Advance(step)
					a, b := with.do(method, "/a"), without.do(method, "/a")
					if a.Code != b.Code || a.Body.String() != b.Body.String() || !sameHeader(a.Header(), b.Header()) {
						t.Fatalf("%s after %v: with the front %d %v %q, without %d %v %q", method, step,
							a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
					}
				}
			}
			if with.origin.count() != without.origin.count() {
				t.Errorf("origin calls: %d with the front, %d without", with.origin.count(), without.origin.count())
			}
		})
	}
}

func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestFrontSeesEveryChange checks issue 18's property through the front:
// once a change to the stored response returns (a purge, a Remove on the
// store, an invalidation by an unsafe method, a newer response stored by
// another instance, a response that starts to vary, expiry), no hit serves
// what it replaced, though the front held it decoded.
func TestFrontSeesEveryChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, h *harness)
		// after is the request made after the change and want its body.
		after []string
		want  string
	}{
		{"a purge of the URL", func(t *testing.T, h *harness) {
			if rec := h.purge("POST", "url="+url.QueryEscape("http://example.com/a"), ""); rec.Code != 200 {
				t.Fatalf("purge: %d %s", rec.Code, rec.Body)
			}
		}, nil, "body 2"},
		{"a purge by tag", func(t *testing.T, h *harness) {
			if rec := h.purge("POST", "tag=t1", ""); rec.Code != 200 {
				t.Fatalf("purge: %d %s", rec.Code, rec.Body)
			}
		}, nil, "body 2"},
		{"a Remove on the store, as another instance makes it", func(t *testing.T, h *harness) {
			u, _ := url.Parse("http://example.com/a")
			if ok, err := hitbox.Remove(context.Background(), h.cache.b, h.cache.keyOfURL(u)); !ok || err != nil {
				t.Fatalf("Remove: %v %v", ok, err)
			}
		}, nil, "body 2"},
		{"RFC 9111 §4.4: an invalidation by a POST that succeeded", func(t *testing.T, h *harness) {
			if rec := h.do(http.MethodPost, "/a"); rec.Code != 200 {
				t.Fatalf("POST: %d", rec.Code)
			}
		}, nil, "body 3"},
		{"a newer response stored by another instance sharing the store", func(t *testing.T, h *harness) {
			other := newHarnessOver(t, Options{}, h.clock, h.cache.b)
			other.origin.set(200, "Cache-Control: max-age=100")
			other.origin.body = "from the other instance"
			if rec := other.purge("POST", "url="+url.QueryEscape("http://example.com/a"), ""); rec.Code != 200 {
				t.Fatalf("purge: %d", rec.Code)
			}
			if rec := other.get("/a"); !strings.Contains(cacheStatusOf(rec), "stored") {
				t.Fatalf("the other instance did not store: %q", cacheStatusOf(rec))
			}
		}, nil, "from the other instance"},
		{"the response starts to vary: each variant is its own", func(t *testing.T, h *harness) {
			h.origin.set(200, "Cache-Control: max-age=100", "Vary: Accept-Language")
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=100")
				w.Header().Set("Vary", "Accept-Language")
				fmt.Fprintf(w, "lang %s", r.Header.Get("Accept-Language"))
			}
			h.do(http.MethodPost, "/a") // invalidates
			h.get("/a", "Accept-Language: fr")
			h.get("/a", "Accept-Language: de")
		}, []string{"Accept-Language: fr"}, "lang fr"},
		{"expiry: a response past its freshness is not a hit", func(t *testing.T, h *harness) {
			h.clock.Advance(101 * time.Second)
		}, nil, "body 2"},
	} {
		for _, st := range frontStores {
			t.Run(tc.name+"/"+st.name, func(t *testing.T) {
				t.Parallel()
				clock := hitboxtest.NewClock(t0)
				h := newHarnessOver(t, Options{}, clock, st.new(t, clock))
				h.origin.set(200, "Cache-Control: max-age=100", "Surrogate-Key: t1")
				h.warm("/a")
				if rec := h.get("/a"); !isHit(rec) || rec.Body.String() != "body 1" {
					t.Fatalf("before: %q %q", cacheStatusOf(rec), rec.Body)
				}
				tc.change(t, h)
				for range 3 { // a first read, then reads the front could answer
					rec := h.get("/a", tc.after...)
					if rec.Body.String() != tc.want {
						t.Fatalf("after the change: %q %q, want %q", cacheStatusOf(rec), rec.Body, tc.want)
					}
				}
				if strings.Contains(tc.name, "vary") {
					if rec := h.get("/a", "Accept-Language: de"); rec.Body.String() != "lang de" || !isHit(rec) {
						t.Errorf("the other variant: %q %q", cacheStatusOf(rec), rec.Body)
					}
				}
			})
		}
	}
}

// frontStores are the backends the front's coherence is checked over:
// stores that stamp their keys (hitbox.Stamper), so the front answers
// without reading them, and one that does not, so every hit reads it.
var frontStores = []struct {
	name string
	new  func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend
}{
	{"stamped map", func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		return mapstore.New(mapstore.Options{Now: clock.Now})
	}},
	{"unstamped map", func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		return mapstore.New(mapstore.Options{Now: clock.Now, NoStamps: true})
	}},
	{"memstore", func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
		s, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

// countingStore counts the reads of a stamped map store, and the hits
// answered from a copy its stamp vouched for.
type countingStore struct {
	*mapstore.Store
	gets, hits atomic.Int64
}

func (s *countingStore) Hit(key string) { s.hits.Add(1) }

func (s *countingStore) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

// TestFrontStampSparesTheRead checks that over a store that stamps its
// keys a hit of a held entry reads nothing while the stamp stands, and
// reads again, once, after any change moved it; over a store without
// stamps every hit reads.
func TestFrontStampSparesTheRead(t *testing.T) {
	t.Parallel()
	for _, stamps := range []bool{true, false} {
		clock := hitboxtest.NewClock(t0)
		st := &countingStore{Store: mapstore.New(mapstore.Options{Now: clock.Now, NoStamps: !stamps})}
		h := newHarnessOver(t, Options{}, clock, st)
		h.origin.set(200, "Cache-Control: max-age=100")
		h.warm("/a")
		h.get("/a") // stamps the entry
		reads := func(n int) int64 {
			before := st.gets.Load()
			for range n {
				if rec := h.get("/a"); !isHit(rec) || rec.Body.String() != "body 1" {
					t.Fatalf("stamps %v: %q %q", stamps, cacheStatusOf(rec), rec.Body)
				}
			}
			return st.gets.Load() - before
		}
		want := int64(0)
		if !stamps {
			want = 10
		}
		hits := st.hits.Load()
		if got := reads(10); got != want {
			t.Errorf("stamps %v: 10 hits read the store %d times, want %d", stamps, got, want)
		}
		if got := st.hits.Load() - hits; got != 10-want {
			t.Errorf("stamps %v: the store was told of %d hits answered without a read, want %d", stamps, got, 10-want)
		}
		if err := st.Set(context.Background(), "other", hitbox.Entry{Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if stamps {
			want = 1 // the change moved the stamp: one read, then none
		}
		if got := reads(10); got != want {
			t.Errorf("stamps %v: after a change, 10 hits read the store %d times, want %d", stamps, got, want)
		}
	}
}

// TestFrontIsBounded checks that the front keeps within FrontBytes,
// whatever the number of responses read.
func TestFrontIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{FrontBytes: 64 << 10})
	h.origin.set(200, "Cache-Control: max-age=100")
	h.origin.body = strings.Repeat("x", 1000)
	for i := range 400 {
		for range 3 {
			if rec := h.get(fmt.Sprintf("/%d", i)); rec.Body.Len() != 1000 {
				t.Fatalf("/%d: %d bytes", i, rec.Body.Len())
			}
		}
	}
	var total int64
	entries := 0
	for i := range h.cache.front.shards {
		sh := &h.cache.front.shards[i]
		total += sh.bytes
		entries += len(sh.m)
		if sh.bytes > h.cache.front.maxShard {
			t.Errorf("shard %d holds %d bytes, over %d", i, sh.bytes, h.cache.front.maxShard)
		}
	}
	if total > 64<<10 || entries == 0 {
		t.Errorf("the front holds %d entries, %d bytes: want some, within %d", entries, total, 64<<10)
	}
}

// TestFrontConcurrent reads one response from many goroutines while it is
// purged and stored again, for the race detector, and checks that every
// answer is a whole response.
func TestFrontConcurrent(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	h := newHarnessOver(t, Options{}, clock, mapstore.New(mapstore.Options{Now: clock.Now}))
	h.origin.set(200, "Cache-Control: max-age=100")
	h.origin.body = "same"
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if g == 0 && i%20 == 0 {
					h.purge("POST", "url="+url.QueryEscape("http://example.com/a"), "")
				}
				req := httptest.NewRequest(http.MethodGet, "http://example.com/a", nil)
				rec := httptest.NewRecorder()
				h.h.ServeHTTP(rec, req)
				if rec.Body.String() != "same" || isHit(rec) && rec.Header().Get("Content-Length") != "4" {
					t.Errorf("%q %v", rec.Body, rec.Header())
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestFrontPass checks the pass marker (hit-for-pass): a URL whose
// responses cannot be stored is sent straight to the handler from its
// third plain request, without a lease (nor a read of the backend), with
// the answer it would get otherwise; a response that can be stored ends
// the marker, unstored itself, and the next is stored as usual; the
// marker lapses after passFor.
func TestFrontPass(t *testing.T) {
	t.Parallel()
	with := newHarness(t, Options{})
	without := newHarness(t, Options{FrontBytes: -1})
	for _, h := range []*harness{with, without} {
		h.origin.set(200, "Cache-Control: no-store", "Content-Type: text/plain")
	}
	for i := range 5 {
		leases := with.store.LeasesTaken()
		a, b := with.get("/p"), without.get("/p")
		if a.Code != b.Code || a.Body.String() != b.Body.String() || !sameHeader(a.Header(), b.Header()) {
			t.Fatalf("request %d: with the front %d %v %q, without %d %v %q", i, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
		}
		if took := with.store.LeasesTaken() - leases; (i >= 2) != (took == 0) {
			t.Errorf("request %d took %d leases: want one each before the marker, none after", i, took)
		}
	}
	with.origin.set(200, "Cache-Control: max-age=100")
	if rec := with.get("/p"); strings.Contains(cacheStatusOf(rec), "stored") {
		t.Errorf("a passed request's response was stored: %q", cacheStatusOf(rec))
	}
	if rec := with.get("/p"); !strings.Contains(cacheStatusOf(rec), "stored") {
		t.Errorf("after the marker: %q, want stored", cacheStatusOf(rec))
	}
	if rec := with.get("/p"); !isHit(rec) {
		t.Errorf("then: %q, want a hit", cacheStatusOf(rec))
	}

	with.origin.set(200, "Cache-Control: private")
	for range 3 {
		with.get("/q")
	}
	with.clock.Advance(passFor)
	leases := with.store.LeasesTaken()
	with.get("/q")
	if with.store.LeasesTaken() == leases {
		t.Error("the marker outlived passFor: no lease taken")
	}
}

// TestFrontHeedsTheStoresDeadline checks that a stamped entry is not
// answered past the store's own deadline for it, which a store may set
// before the response's freshness ends (memstore's MaxTTL): expiry moves
// no stamp.
func TestFrontHeedsTheStoresDeadline(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	s, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1, Now: clock.Now, MaxTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h := newHarnessOver(t, Options{}, clock, s)
	h.origin.set(200, "Cache-Control: max-age=100")
	h.warm("/a")
	for range 2 {
		if rec := h.get("/a"); !isHit(rec) || rec.Body.String() != "body 1" {
			t.Fatalf("before: %q %q", cacheStatusOf(rec), rec.Body)
		}
	}
	clock.Advance(11 * time.Second)
	if rec := h.get("/a"); isHit(rec) || rec.Body.String() != "body 2" {
		t.Errorf("past the store's deadline: %q %q, want the origin's next response", cacheStatusOf(rec), rec.Body)
	}
}

// maxAgeOrigin answers every request with a body and the freshness
// lifetime its "ma" parameter names, dated by clock.
func maxAgeOrigin(clock *hitboxtest.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = []string{"max-age=" + r.URL.Query().Get("ma")}
		w.Header()["Date"] = []string{clock.Now().Format(http.TimeFormat)}
		_, _ = w.Write([]byte("body"))
	})
}

// TestFrontMarksExact: front hits over entries of several lifetimes
// stored at several times, which share their rendered Age and
// Cache-Status values, each carry their own: Age the entry's age, ttl its
// freshness left. The ages cross the rendered blocks' edges, and two
// entries stored the table's span apart need the same slot in turn.
func TestFrontMarksExact(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	c := New(mapstore.New(mapstore.Options{Now: clock.Now}), Options{Now: clock.Now, CacheName: "edge"})
	t.Cleanup(func() { _ = c.Close() })
	h := c.Middleware(maxAgeOrigin(clock))
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://example.com"+target, nil))
		return rec
	}
	type entry struct {
		target   string
		lifetime int64
		stored   time.Time
	}
	var entries []entry
	store := func(tag string) {
		for _, lifetime := range []int64{10, 64, 65, 100, 4000, 40_000, 100_000} {
			e := entry{fmt.Sprintf("/m?ma=%d&at=%s", lifetime, tag), lifetime, clock.Now()}
			for range 3 { // the doorkeeper admits a key on its second read
				get(e.target)
			}
			if !frontHolds(c, "http://example.com"+e.target) {
				t.Fatalf("the front does not hold %s", e.target)
			}
			entries = append(entries, e)
		}
	}
	check := func() {
		t.Helper()
		for _, e := range entries {
			age := int64(clock.Now().Sub(e.stored) / time.Second)
			if age >= e.lifetime {
				continue
			}
			rec := get(e.target)
			want := fmt.Sprintf("edge; hit; ttl=%d", e.lifetime-age)
			if got := rec.Header().Values("Age"); len(got) != 1 || got[0] != fmt.Sprint(age) {
				t.Errorf("%s at age %d: Age %q", e.target, age, got)
			}
			if got := rec.Header().Values("Cache-Status"); len(got) != 1 || got[0] != want {
				t.Errorf("%s at age %d: Cache-Status %q, want %q", e.target, age, got, want)
			}
		}
	}
	store("0")
	for _, step := range []int64{0, 1, 61, 1, 1, 1, 62, 3000} { // ages 0, 1, 62 to 64, 65, 127, 3127
		clock.Advance(time.Duration(step) * time.Second)
		check()
		check() // the values rendered for the first
	}
	clock.Advance(time.Duration(markSlots*markBlockLen-3127) * time.Second)
	store("span") // ages 0 and markSlots*markBlockLen: one slot
	for range 3 {
		check()
		clock.Advance(time.Second)
	}
}

// TestFrontManyURLsAllocations: hits answered by the front over many
// URLs allocate nothing, though every entry's Age and Cache-Status
// values change each second: they are shared between entries (rendered
// per entry and second, they cost 4 allocations a hit).
func TestFrontManyURLsAllocations(t *testing.T) { // not parallel: AllocsPerRun
	clock := hitboxtest.NewClock(t0)
	c := New(mapstore.New(mapstore.Options{Now: clock.Now}), Options{Now: clock.Now})
	defer c.Close()
	h := c.Middleware(maxAgeOrigin(clock))
	reqs := make([]*http.Request, 100)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("http://example.test/doc?ma=3600&n=%d", i), nil)
	}
	w := &reusedWriter{h: http.Header{}}
	serve := func() {
		for _, r := range reqs {
			clear(w.h)
			w.n = 0
			h.ServeHTTP(w, r)
		}
	}
	for range 3 { // stored, then admitted to the front
		serve()
	}
	clock.Advance(time.Second)
	serve()
	if cs := w.h.Get("Cache-Status"); cs != "hitbox; hit; ttl=3599" || w.h.Get("Age") != "1" {
		t.Fatalf("Cache-Status %q, Age %q: want a hit from the front at age 1", cs, w.h.Get("Age"))
	}
	// A run is 100 hits a second after the last: fewer than 100
	// allocations a run (a new block of values now and then) average 0.
	n := testing.AllocsPerRun(100, func() {
		clock.Advance(time.Second)
		serve()
	})
	if n != 0 {
		t.Errorf("100 hits over 100 URLs allocate %v times, want 0", n)
	}
}

// TestFrontPassesUnsafeRequests: a request the cache must pass by (a
// field Options.BypassFields names, content it does not key) is not
// answered from the front, though the front holds its URL's response.
func TestFrontPassesUnsafeRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60")
	h.warm("/a")
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"a bypass field", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://example.com/a", nil)
			r.Header.Set("X-Forwarded-Host", "evil.example")
			return r
		}},
		{"content", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://example.com/a", strings.NewReader("x"))
		}},
	} {
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, tc.req())
		if cs := cacheStatusOf(rec); !strings.Contains(cs, "fwd=bypass") {
			t.Errorf("%s: Cache-Status %q, want fwd=bypass", tc.name, cs)
		}
	}
	if rec := h.get("/a"); !isHit(rec) {
		t.Errorf("a plain request then: %q, want a hit", cacheStatusOf(rec))
	}
}
