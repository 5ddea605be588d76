package httpcache

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestPurgeHandler checks the purge handler's request shape and answers,
// and what each purge leaves stored. Every case stores the GET responses
// of stored (full URLs, with a request field after a space), sends one
// purge, and checks which of them are hits afterwards.
func TestPurgeHandler(t *testing.T) {
	t.Parallel()
	q := url.QueryEscape
	cases := []struct {
		name    string
		opts    Options
		vary    bool     // the responses vary on Accept-Language
		stored  []string // "URL" or "URL Accept-Language-value"
		method  string
		query   string
		body    string // a form body
		status  int
		answer  string   // in the JSON answer
		hits    []string // of stored, still hits afterwards
		missing []string // of stored, misses afterwards
	}{
		{name: "a purge by URL removes the response and answers 200 with removed:true",
			stored: []string{"http://example.com/a", "http://example.com/b"},
			method: "POST", query: "url=" + q("http://example.com/a"),
			status: 200, answer: `{"url":"http://example.com/a","removed":true}`,
			hits: []string{"http://example.com/b"}, missing: []string{"http://example.com/a"}},
		{name: "a purge by URL of nothing stored answers 404 with removed:false",
			stored: []string{"http://example.com/a"},
			method: "POST", query: "url=" + q("http://example.com/nothing"),
			status: 404, answer: `"removed":false`, hits: []string{"http://example.com/a"}},
		{name: "the URL is the key a request for it has: host case and the default port do not matter (RFC 3986 §6.2.3)",
			stored: []string{"http://example.com/a"},
			method: "POST", query: "url=" + q("HTTP://Example.COM:80/a#frag"),
			status: 200, missing: []string{"http://example.com/a"}},
		{name: "a URL without a path is the root, as a request for it",
			stored: []string{"http://example.com/"},
			method: "POST", query: "url=" + q("http://example.com"),
			status: 200, missing: []string{"http://example.com/"}},
		{name: "an escaped path is the path a request sends",
			stored: []string{"http://example.com/a%20b"},
			method: "POST", query: "url=" + q("http://example.com/a b"),
			status: 200, missing: []string{"http://example.com/a%20b"}},
		{name: "the query is part of the key: another query purges nothing",
			stored: []string{"http://example.com/a?x=1"},
			method: "POST", query: "url=" + q("http://example.com/a?x=2"),
			status: 404, hits: []string{"http://example.com/a?x=1"}},
		{name: "with KeyQuery, the URL's other parameters and their order do not matter",
			opts:   Options{KeyQuery: []string{"id", "page"}},
			stored: []string{"http://example.com/a?page=2&id=7&utm=x"},
			method: "POST", query: "url=" + q("http://example.com/a?id=7&page=2"),
			status: 200, missing: []string{"http://example.com/a?page=2&id=7&utm=x"}},
		{name: "with IgnoreHost a path alone will do",
			opts:   Options{IgnoreHost: true},
			stored: []string{"http://example.com/a"},
			method: "POST", query: "url=" + q("/a"),
			status: 200, missing: []string{"http://example.com/a"}},
		{name: "every variant of a varying URL goes (RFC 9111 §4.1), through its index",
			vary:   true,
			stored: []string{"http://example.com/v en", "http://example.com/v fr", "http://example.com/w en"},
			method: "POST", query: "url=" + q("http://example.com/v"),
			status: 200, hits: []string{"http://example.com/w en"},
			missing: []string{"http://example.com/v en", "http://example.com/v fr"}},
		{name: "the URL may come in a form body",
			stored: []string{"http://example.com/a"},
			method: "POST", body: "url=" + q("http://example.com/a"),
			status: 200, missing: []string{"http://example.com/a"}},
		{name: "a purge by tag answers 200 with the tags",
			stored: []string{"http://example.com/a"},
			method: "POST", query: "tag=a-tag&tag=" + q("b c"),
			status: 200, answer: `{"tags":["a-tag","b","c"]}`},
		{name: "GET is refused with 405 and Allow: POST",
			method: "GET", query: "url=" + q("http://example.com/a"), status: 405, answer: "purge with POST"},
		{name: "PURGE is refused with 405: POST is the one method",
			method: "PURGE", query: "url=" + q("http://example.com/a"), status: 405},
		{name: "no parameter is a 400 saying what to give",
			method: "POST", status: 400, answer: "give url=URL"},
		{name: "url and tag together are a 400",
			method: "POST", query: "url=" + q("http://example.com/a") + "&tag=x", status: 400, answer: "not both"},
		{name: "two URLs are a 400",
			method: "POST", query: "url=" + q("http://example.com/a") + "&url=" + q("http://example.com/b"), status: 400, answer: "one url"},
		{name: "an unknown parameter (a typo) is a 400 naming it",
			method: "POST", query: "tags=x", status: 400, answer: `unknown parameter \"tags\"`},
		{name: "a relative URL is a 400 when keys include the host",
			method: "POST", query: "url=" + q("/a"), status: 400, answer: "absolute http"},
		{name: "another scheme is a 400",
			method: "POST", query: "url=" + q("ftp://example.com/a"), status: 400, answer: "absolute http"},
		{name: "user information is a 400",
			method: "POST", query: "url=" + q("http://u:p@example.com/a"), status: 400, answer: "user information"},
		{name: "an empty url is a 400",
			method: "POST", query: "url=", status: 400, answer: "url is empty"},
		{name: "a URL that does not parse is a 400",
			method: "POST", query: "url=" + q("http://[::1/a"), status: 400, answer: "does not parse"},
		{name: "an empty tag is a 400",
			method: "POST", query: "tag=+,+", status: 400, answer: "tag is empty"},
		{name: "a tag over MaxTagLen is a 400",
			method: "POST", query: "tag=" + strings.Repeat("x", hitbox.MaxTagLen+1), status: 400, answer: "MaxTagLen"},
		{name: "a broken query is a 400",
			method: "POST", query: "url=%zz", status: 400, answer: "unreadable parameters"},
		{name: "a form body over 1 MiB is a 413",
			method: "POST", body: "tag=" + strings.Repeat("x", maxPurgeBody), status: 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			fields := []string{"Cache-Control: max-age=600"}
			if tc.vary {
				fields = append(fields, "Vary: Accept-Language")
			}
			h.origin.set(200, fields...)
			get := func(s string) bool {
				target, lang, _ := strings.Cut(s, " ")
				if lang != "" {
					return isHit(h.get(target, "Accept-Language: "+lang))
				}
				return isHit(h.get(target))
			}
			for _, s := range tc.stored {
				get(s)
				if !get(s) {
					t.Fatalf("%s was not stored", s)
				}
			}
			rec := h.purge(tc.method, tc.query, tc.body)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.answer) {
				t.Errorf("purge: %d %s; want %d with %s", rec.Code, rec.Body, tc.status, tc.answer)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var a map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Errorf("the answer is no JSON object: %v", err)
			}
			if tc.status == 405 && rec.Header().Get("Allow") != "POST" {
				t.Errorf("405 with Allow %q, want POST", rec.Header().Get("Allow"))
			}
			for _, s := range tc.hits {
				if !get(s) {
					t.Errorf("%s: a miss after the purge, want a hit", s)
				}
			}
			for _, s := range tc.missing {
				if get(s) {
					t.Errorf("%s: a hit after the purge, want a miss", s)
				}
			}
		})
	}
}

// TestPurgeURLHead: GET and HEAD share a key, so a purge of the URL drops
// what a HEAD would have been answered from, and the HEAD is a miss.
func TestPurgeURLHead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=600")
	h.get("/a")
	if rec := h.do(http.MethodHead, "/a"); !isHit(rec) {
		t.Fatalf("HEAD before the purge: %q, want a hit from the stored GET", cacheStatusOf(rec))
	}
	h.purge("POST", "url="+url.QueryEscape("http://example.com/a"), "")
	if rec := h.do(http.MethodHead, "/a"); isHit(rec) {
		t.Errorf("HEAD after the purge: %q, want a miss", cacheStatusOf(rec))
	}
}

// TestPurgeWithKey: with Options.Key, the URL's key is what Key gives a
// GET for it.
func TestPurgeWithKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Key: func(r *http.Request) string { return r.URL.Path }})
	h.origin.set(200, "Cache-Control: max-age=600")
	h.get("http://one.example/a")
	if rec := h.purge("POST", "url="+url.QueryEscape("http://two.example/a"), ""); rec.Code != 200 {
		t.Errorf("purge through Key: %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := h.get("http://one.example/a"); isHit(rec) {
		t.Errorf("after the purge: %q, want a miss", cacheStatusOf(rec))
	}
}

// TestPurgeBackendDown: a backend that fails gives 503, and the message
// does not leak the error's text (keys can reveal URIs).
func TestPurgeBackendDown(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	h := newHarnessOver(t, Options{}, clock, failing{mapstore.New(mapstore.Options{Now: clock.Now})})
	for _, query := range []string{"url=" + url.QueryEscape("http://example.com/a"), "tag=a"} {
		rec := h.purge("POST", query, "")
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "backend unavailable") {
			t.Errorf("%s over a failing backend: %d %s; want 503 naming the failure", query, rec.Code, rec.Body)
		}
	}
}

// failing is a Tagger whose every operation fails as a store that is down.
type failing struct{ *mapstore.Store }

func (failing) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, hitbox.ErrUnavailable
}
func (failing) Delete(context.Context, string) error { return hitbox.ErrUnavailable }
func (failing) Remove(context.Context, string) (bool, error) {
	return false, hitbox.ErrUnavailable
}
func (failing) InvalidateTags(context.Context, ...string) error { return hitbox.ErrUnavailable }

// TestPurgeRacingStore checks a purge against requests in flight, as
// TestInvalidationRacingStore checks RFC 9111 §4.4: a response asked for
// before a purge (by URL or by one of its tags) is not stored after it,
// whichever way it was asked for. Each case holds the origin's answer,
// purges, releases the answer, and checks that the next GET goes to the
// origin.
//
// For tags, the store cannot do this alone: the tag versions of
// tags-plan.md purge what was written before the purge, but a write that
// reaches the store after it reads the new versions and lives, however old
// the response it carries (see TestTagVersionsAloneKeepALateWrite). The
// cache's own guard (Cache.purges) refuses the store instead.
func TestPurgeRacingStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		purge  string
		stored []string      // the response stored before, if any
		after  time.Duration // clock advance before the held request
		held   []string      // the held answer's fields
		code   int           // the held answer's status
	}{
		{name: "by URL: a miss (a collapse leader) asked before the purge",
			purge: "url=" + url.QueryEscape("http://example.com/r"),
			held:  []string{"Cache-Control: max-age=600"}, code: 200},
		{name: "by URL: a varying miss",
			purge: "url=" + url.QueryEscape("http://example.com/r"),
			held:  []string{"Cache-Control: max-age=600", "Vary: Accept-Language"}, code: 200},
		{name: "by URL: a validation whose 304 arrives after the purge (§4.3.4)",
			purge:  "url=" + url.QueryEscape("http://example.com/r"),
			stored: []string{"Cache-Control: max-age=10", `ETag: "v1"`}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", `ETag: "v1"`}, code: 304},
		{name: "by URL: a detached stale-while-revalidate refresh (RFC 5861 §3)",
			purge: "url=" + url.QueryEscape("http://example.com/r"), opts: Options{DetachedRefresh: true},
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600"}, code: 200},
		{name: "by tag: a tagged miss (a collapse leader) asked before the purge",
			purge: "tag=t",
			held:  []string{"Cache-Control: max-age=600", "Surrogate-Key: t"}, code: 200},
		{name: "by tag: a tagged variant",
			purge: "tag=t",
			held:  []string{"Cache-Control: max-age=600", "Vary: Accept-Language", "Surrogate-Key: t"}, code: 200},
		{name: "by tag: a 304 that would store the stored tagged response again",
			purge:  "tag=t",
			stored: []string{"Cache-Control: max-age=10", `ETag: "v1"`, "Surrogate-Key: t"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", `ETag: "v1"`}, code: 304},
		{name: "by tag: a stale-while-revalidate refresh on the request's goroutine",
			purge:  "tag=t",
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60", "Surrogate-Key: t"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", "Surrogate-Key: t"}, code: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			if tc.stored != nil {
				h.origin.set(200, tc.stored...)
				h.get("/r", "Accept-Language: en")
			}
			h.clock.Advance(tc.after)
			called, release := make(chan struct{}), make(chan struct{})
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				close(called)
				<-release
				for _, f := range tc.held {
					name, value, _ := strings.Cut(f, ":")
					w.Header().Add(name, strings.TrimSpace(value))
				}
				w.Header().Set("Date", h.clock.Now().Format(http.TimeFormat))
				w.WriteHeader(tc.code)
				if tc.code == 200 {
					_, _ = w.Write([]byte("old"))
				}
			}
			done := make(chan string)
			go func() {
				rec := h.get("/r", "Accept-Language: en")
				done <- cacheStatusOf(rec)
			}()
			<-called
			if rec := h.purge("POST", tc.purge, ""); rec.Code != 200 && rec.Code != 404 {
				t.Fatalf("purge: %d %s", rec.Code, rec.Body)
			}
			close(release)
			<-done
			_ = h.cache.Close() // a detached refresh has ended
			h.origin.set(200, "Cache-Control: max-age=600")
			if rec := h.get("/r", "Accept-Language: en"); isHit(rec) {
				t.Errorf("a response asked for before the purge was stored after it: %q %q",
					cacheStatusOf(rec), rec.Body)
			}
		})
	}
}

// TestTagVersionsAloneKeepALateWrite shows why the cache guards tagged
// stores itself: under the per-tag versions every Tagger keeps, a write
// that reaches the store after InvalidateTags reads the new version and
// survives, whatever the age of what it carries. Only a write that read
// the versions before the purge is dropped.
func TestTagVersionsAloneKeepALateWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mapstore.New(mapstore.Options{})
	old := hitbox.Entry{Value: []byte("recorded before the purge")}
	if err := s.SetTagged(ctx, "k", old, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if err := s.InvalidateTags(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err == nil {
		t.Fatal("an entry written before the purge survived it")
	}
	if err := s.SetTagged(ctx, "k", old, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("the late write of an old response is a miss (%v): the store alone would guard it, and this test's premise is wrong", err)
	}
}

// TestTagPurgeDuringStore checks the other order: the tagged store passed
// its check and its write lands after the purge (with the tags' new
// versions, so the store keeps it). The cache must take back what it wrote.
func TestTagPurgeDuringStore(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	b := &holdingTagged{Store: mapstore.New(mapstore.Options{Now: clock.Now}),
		setting: make(chan struct{}), release: make(chan struct{})}
	h := newHarnessOver(t, Options{}, clock, b)
	h.origin.set(200, "Cache-Control: max-age=600", "Surrogate-Key: t")
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.get("/r")
	}()
	<-b.setting // the GET's store passed its check and is writing
	if rec := h.purge("POST", "tag=t", ""); rec.Code != 200 {
		t.Fatalf("purge: %d %s", rec.Code, rec.Body)
	}
	close(b.release)
	<-done
	if rec := h.get("/r"); isHit(rec) {
		t.Errorf("a tagged write that landed after the purge stayed: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

// holdingTagged holds the first SetTagged or SetLeased (the way a store
// goes when the backend is a hitbox.Leaser, as mapstore is) until
// released.
type holdingTagged struct {
	*mapstore.Store
	setting chan struct{}
	release chan struct{}
	held    bool
}

func (b *holdingTagged) hold() {
	if !b.held {
		b.held = true
		close(b.setting)
		<-b.release
	}
}

func (b *holdingTagged) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	b.hold()
	return b.Store.SetTagged(ctx, key, e, tags)
}

func (b *holdingTagged) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	b.hold()
	return b.Store.SetLeased(ctx, key, e, tags, l)
}

// TestPurgeReleasesWaiters: requests collapsed behind a leader whose
// response was asked for before a purge or an invalidation (RFC 9111
// §4.4) are not left waiting when the leader's store is refused: they ask
// the handler themselves and get its newer answer.
func TestPurgeReleasesWaiters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields []string
		purge  func(h *harness)
	}{
		{"a purge by URL", []string{"Cache-Control: max-age=600"},
			func(h *harness) { h.purge("POST", "url="+url.QueryEscape("http://example.com/r"), "") }},
		{"a purge by tag", []string{"Cache-Control: max-age=600", "Surrogate-Key: t"},
			func(h *harness) { h.purge("POST", "tag=t", "") }},
		{"a POST to the URI (RFC 9111 §4.4)", []string{"Cache-Control: max-age=600"},
			func(h *harness) { h.do(http.MethodPost, "/r") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			waiting := make(chan struct{}, 1)
			h.cache.flights.waiting = func() { waiting <- struct{}{} }
			called, release := make(chan struct{}), make(chan struct{})
			calls := 0
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				calls++ // the leader's call, then the waiter's, one after the other
				n := calls
				if n == 1 {
					close(called)
					<-release
				}
				for _, f := range tc.fields {
					name, value, _ := strings.Cut(f, ":")
					w.Header().Add(name, strings.TrimSpace(value))
				}
				w.Header().Set("Date", h.clock.Now().Format(http.TimeFormat))
				if n == 1 {
					_, _ = w.Write([]byte("old"))
				} else {
					_, _ = w.Write([]byte("new"))
				}
			}
			leader, waiter := make(chan string), make(chan string)
			go func() { leader <- h.get("/r").Body.String() }()
			<-called
			go func() { waiter <- h.get("/r").Body.String() }()
			<-waiting
			tc.purge(h)
			close(release)
			if got := <-leader; got != "old" {
				t.Errorf("the leader got %q, want its own %q", got, "old")
			}
			if got := <-waiter; got != "new" {
				t.Errorf("the waiter got %q, want the handler's answer after the purge", got)
			}
		})
	}
}
