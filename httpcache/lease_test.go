package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// leasing is a hitbox.Leaser for tests, over a mapstore: every change
// covering a key bumps the key's version (a clear bumps an epoch that
// covers all), every purge the tag's, and SetLeased stores only if the
// versions a lease noted still stand, in one step under mu.
type leasing struct {
	*mapstore.Store

	mu     sync.Mutex
	keys   map[string]uint64
	tags   map[string]uint64
	epoch  uint64
	leases []leaseRec // by token - 1
}

type leaseRec struct {
	key        string
	ver, epoch uint64
	tags       map[string]uint64
}

var _ hitbox.Leaser = (*leasing)(nil)

func newLeasing(now func() time.Time) *leasing {
	return &leasing{Store: mapstore.New(mapstore.Options{Now: now}),
		keys: make(map[string]uint64), tags: make(map[string]uint64)}
}

func (l *leasing) Lease(_ context.Context, key string, tags []string) (hitbox.Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := leaseRec{key: key, ver: l.keys[key], epoch: l.epoch, tags: make(map[string]uint64)}
	for _, t := range tags {
		r.tags[t] = l.tags[t]
	}
	l.leases = append(l.leases, r)
	return hitbox.Lease{Token: strconv.Itoa(len(l.leases))}, nil
}

func (l *leasing) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, le hitbox.Lease) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if le.Valid() {
		i, _ := strconv.Atoi(le.Token)
		held := i >= 1 && i <= len(l.leases)
		if held {
			r := l.leases[i-1]
			held = r.key == key && r.ver == l.keys[key] && r.epoch == l.epoch
			for t, v := range r.tags {
				held = held && l.tags[t] == v
			}
		}
		if !held {
			return &hitbox.Error{Op: hitbox.OpSet, Backend: l.Label(), Err: hitbox.ErrLeaseLost}
		}
	}
	if len(tags) == 0 {
		return l.Store.Set(ctx, key, e)
	}
	return l.Store.SetTagged(ctx, key, e, tags)
}

// change runs fn, a change of keys, under mu after bumping their versions.
func (l *leasing) change(fn func() error, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.keys[k]++
	}
	return fn()
}

func (l *leasing) Set(ctx context.Context, key string, e hitbox.Entry) error {
	return l.change(func() error { return l.Store.Set(ctx, key, e) }, key)
}

func (l *leasing) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	return l.change(func() error { return l.Store.SetTagged(ctx, key, e, tags) }, key)
}

func (l *leasing) Delete(ctx context.Context, key string) error {
	return l.change(func() error { return l.Store.Delete(ctx, key) }, key)
}

func (l *leasing) Remove(ctx context.Context, key string) (ok bool, err error) {
	err = l.change(func() error { ok, err = l.Store.Remove(ctx, key); return err }, key)
	return ok, err
}

func (l *leasing) DeleteMany(ctx context.Context, keys []string) error {
	return l.change(func() error { return l.Store.DeleteMany(ctx, keys) }, keys...)
}

func (l *leasing) SetMany(ctx context.Context, items []hitbox.Item) error {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return l.change(func() error { return l.Store.SetMany(ctx, items) }, keys...)
}

func (l *leasing) Clear(ctx context.Context) error {
	return l.change(func() error { l.epoch++; return l.Store.Clear(ctx) })
}

func (l *leasing) ClearPrefix(ctx context.Context, prefix string) error {
	return l.change(func() error { l.epoch++; return l.Store.ClearPrefix(ctx, prefix) })
}

func (l *leasing) InvalidateTags(ctx context.Context, tags ...string) error {
	return l.change(func() error {
		for _, t := range tags {
			l.tags[t]++
		}
		return l.Store.InvalidateTags(ctx, tags...)
	})
}

// TestChangeOnAnotherInstanceCrossingAStore checks item 5 of issue 18
// across instances: two Caches share one backend with leases; a request
// to one of them waits on a slow origin while the other changes the URI
// (an unsafe request, a purge of the URL, a purge of a tag the stored
// response carries); the held response then goes to its client as usual,
// but is not stored, so neither instance serves it afterwards.
func TestChangeOnAnotherInstanceCrossingAStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		stored []string      // the response stored before, if any
		after  time.Duration // clock advance before the held request
		held   []string      // the held answer's fields
		code   int           // the held answer's status
		change func(t *testing.T, other *harness)
		detail bool // the held response's own Cache-Status says lease-lost (its store precedes its header)
	}{
		{name: "A miss crossed by an unsafe request to the other instance (RFC 9111 §4.4).",
			held: []string{"Cache-Control: max-age=600"}, code: 200,
			change: func(t *testing.T, other *harness) { other.do(http.MethodPost, "/r") }},
		{name: "A miss crossed by a purge of the URL on the other instance.",
			held: []string{"Cache-Control: max-age=600"}, code: 200,
			change: func(t *testing.T, other *harness) { purge(t, other, "url=http://example.com/r") }},
		{name: "A varying miss crossed by an unsafe request to the other instance.",
			held: []string{"Cache-Control: max-age=600", "Vary: Accept-Language"}, code: 200,
			change: func(t *testing.T, other *harness) { other.do(http.MethodPost, "/r") }},
		{name: "A varying miss, over an index already stored, crossed by a purge of the URL.",
			stored: []string{"Cache-Control: max-age=10", "Vary: Accept-Language"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", "Vary: Accept-Language"}, code: 200,
			change: func(t *testing.T, other *harness) { purge(t, other, "url=http://example.com/r") }},
		{name: "A validation whose 304 arrives after a purge of the stored response's tag: its Cache-Status says so.",
			stored: []string{"Cache-Control: max-age=10", `ETag: "v1"`, "Surrogate-Key: t1"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", `ETag: "v1"`}, code: 304,
			change: func(t *testing.T, other *harness) { purge(t, other, "tag=t1") },
			detail: true},
		{name: "A stale-while-revalidate refresh crossed by a purge of the URL on the other instance.",
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600"}, code: 200,
			change: func(t *testing.T, other *harness) { purge(t, other, "url=http://example.com/r") }},
		{name: "A detached refresh crossed by an unsafe request to the other instance.",
			opts:   Options{DetachedRefresh: true},
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600"}, code: 200,
			change: func(t *testing.T, other *harness) { other.do(http.MethodPost, "/r") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := hitboxtest.NewClock(t0)
			store := newLeasing(clock.Now)
			mine := newHarnessOver(t, tc.opts, clock, store)
			other := newHarnessOver(t, Options{}, clock, store)
			other.origin.set(http.StatusNoContent)
			if tc.stored != nil {
				mine.origin.set(200, tc.stored...)
				mine.get("/r", "Accept-Language: en")
			}
			clock.Advance(tc.after)
			called, release := make(chan struct{}), make(chan struct{})
			mine.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				close(called)
				<-release
				for _, f := range tc.held {
					name, value, _ := strings.Cut(f, ":")
					w.Header().Add(name, strings.TrimSpace(value))
				}
				w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
				w.WriteHeader(tc.code)
				if tc.code == 200 {
					_, _ = w.Write([]byte("old"))
				}
			}
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- mine.get("/r", "Accept-Language: en") }()
			<-called
			tc.change(t, other)
			close(release)
			rec := <-done
			if rec.Code != http.StatusOK {
				t.Fatalf("the held request got %d, want 200 as usual", rec.Code)
			}
			if cs := cacheStatusOf(rec); tc.detail && (strings.Contains(cs, "stored") || !strings.Contains(cs, `detail="lease-lost"`)) {
				t.Errorf("the held response's Cache-Status is %q, want detail=lease-lost and no stored", cs)
			}
			_ = mine.cache.Close() // a detached refresh has ended
			for _, h := range []*harness{mine, other} {
				h.origin.set(200, "Cache-Control: max-age=600")
				h.origin.body = "new"
				if rec := h.get("/r", "Accept-Language: en"); rec.Body.String() == "old" || rec.Body.String() == "body 1" {
					t.Errorf("a response asked for before the change was served after it: %q %q",
						cacheStatusOf(rec), rec.Body)
				}
			}
		})
	}
}

// purge runs a purge on h's PurgeHandler with the form query q; a URL
// with nothing stored (404) is purged all the same.
func purge(t *testing.T, h *harness, q string) {
	t.Helper()
	vals, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/purge?"+vals.Encode(), nil)
	rec := httptest.NewRecorder()
	h.cache.PurgeHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound { // 404: nothing was stored
		t.Fatalf("purge %s: %d %s", q, rec.Code, rec.Body)
	}
}

// TestLeaseCostHTTP checks that a miss takes one lease and a hit none.
func TestLeaseCostHTTP(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	store := newLeasing(clock.Now)
	h := newHarnessOver(t, Options{}, clock, store)
	h.origin.set(200, "Cache-Control: max-age=600")
	h.get("/r")
	if rec := h.get("/r"); !isHit(rec) {
		t.Fatalf("second GET: %q, want a hit", cacheStatusOf(rec))
	}
	store.mu.Lock()
	n := len(store.leases)
	store.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d leases for a miss and a hit, want 1", n)
	}
}

// TestTaggedStoreThroughLease: over memstore, whose leases hold only for
// the tags they were taken with, a response is stored when its tags are
// not those of the lease: a first store of a tagged response, tags that
// changed on refresh, and a response that starts to vary (its index is
// untagged). A purge of its tag then drops it.
func TestTaggedStoreThroughLease(t *testing.T) {
	t.Parallel()
	st, err := memstore.New(memstore.Options{MaxBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	tags, vary := "a", false
	c := New(st, Options{})
	defer c.Close()
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Surrogate-Key", tags)
		if vary {
			w.Header().Set("Vary", "Accept-Language")
		}
		_, _ = w.Write([]byte("body"))
	}))
	get := func(hdr ...string) string {
		r := httptest.NewRequest("GET", "http://example.com/t", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Header().Get("Cache-Status")
	}
	isHit := func(cs string) bool { return strings.Contains(cs, "; hit") }
	steps := []struct {
		name  string
		tags  string
		vary  bool
		hdr   []string
		want  bool // a hit
		purge string
	}{
		{"first store of a tagged response", "a", false, nil, false, ""},
		{"then a hit", "a", false, nil, true, ""},
		{"refreshed (no-cache) with other tags", "b c", false, []string{"Cache-Control", "no-cache"}, false, ""},
		{"then a hit", "b c", false, nil, true, ""},
		{"refreshed, and it varies now", "b", true, []string{"Cache-Control", "no-cache"}, false, ""},
		{"then a hit", "b", true, nil, true, ""},
		{"purged by its tag, a miss", "b", true, nil, false, "b"},
	}
	for _, s := range steps {
		mu.Lock()
		tags, vary = s.tags, s.vary
		mu.Unlock()
		if s.purge != "" {
			if err := c.purgeTags(context.Background(), []string{s.purge}); err != nil {
				t.Fatal(err)
			}
		}
		if cs := get(s.hdr...); isHit(cs) != s.want {
			t.Errorf("%s: Cache-Status %q, want hit=%v", s.name, cs, s.want)
		}
	}
}
