package httpcache

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func TestParseTagLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", hitbox.MaxTagLen+1)
	many := make([]string, hitbox.MaxTags+6)
	for i := range many {
		many[i] = "t" + strconv.Itoa(i)
	}
	cases := []struct {
		name  string
		lines []string
		want  []string
		over  bool
	}{
		{"no line has no tags", nil, nil, false},
		{"Surrogate-Key separates tags with spaces", []string{"a b  c"}, []string{"a", "b", "c"}, false},
		{"Cache-Tag separates them with commas, whitespace around them trimmed", []string{" a, b ,c "}, []string{"a", "b", "c"}, false},
		{"tabs separate too", []string{"a\tb"}, []string{"a", "b"}, false},
		{"several lines are taken together, in order", []string{"a b", "c"}, []string{"a", "b", "c"}, false},
		{"a duplicate counts once, where it first came", []string{"b a b", "a"}, []string{"b", "a"}, false},
		{"empty members are nothing", []string{",, ,", ""}, nil, false},
		{"tags are case-sensitive", []string{"A a"}, []string{"A", "a"}, false},
		{"a tag over MaxTagLen is dropped, the rest kept", []string{"a " + long + " b"}, []string{"a", "b"}, true},
		{"a tag of exactly MaxTagLen is kept", []string{long[1:]}, []string{long[1:]}, false},
		{"past MaxTags the first MaxTags are kept", []string{strings.Join(many, " ")}, many[:hitbox.MaxTags], true},
		{"duplicates past MaxTags are no overflow", []string{strings.Join(many[:hitbox.MaxTags], " ") + " t0 t1"}, many[:hitbox.MaxTags], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, over := parseTagLines(tc.lines)
			if !slices.Equal(got, tc.want) || over != tc.over {
				t.Errorf("parseTagLines(%.80q) = %.80q, over %v; want %.80q, over %v", tc.lines, got, over, tc.want, tc.over)
			}
			if err := hitbox.CheckTags(got); len(got) > 0 && err != nil {
				t.Errorf("the tags kept fail CheckTags: %v", err)
			}
		})
	}
}

// purge sends a purge request through the cache's PurgeHandler: the
// method, the query, and a form body when body is not empty.
func (h *harness) purge(method, query, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, "http://admin.test/purge?"+query, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "http://admin.test/purge?"+query, nil)
	}
	rec := httptest.NewRecorder()
	h.cache.PurgeHandler().ServeHTTP(rec, req)
	return rec
}

// tagsAt returns the tags stored with the response at the URI target.
func (h *harness) tagsAt(target string) []string {
	h.t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		h.t.Fatal(err)
	}
	_, tags, err := h.store.GetTagged(context.Background(), h.cache.keyOfURL(u))
	if err != nil {
		h.t.Fatalf("GetTagged %s: %v", target, err)
	}
	return tags
}

// TestTagsRecorded checks what a response's tag fields become: the tags
// stored with it, the fields the client sees on the miss and on the hit,
// and what a purge of one of its tags does.
func TestTagsRecorded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		opts      Options
		fields    []string
		wantTags  []string // stored with the response
		sent      []string // tag field lines the client sees, on the miss and the hit
		purge     string   // tag purged afterwards
		purged    bool     // whether that made the next GET a miss
		csDetails string   // in the miss's Cache-Status
	}{
		{name: "Surrogate-Key's tags are stored with the response and stripped from what clients see",
			fields: []string{"Surrogate-Key: product-7 page-home"}, wantTags: []string{"product-7", "page-home"},
			purge: "product-7", purged: true},
		{name: "Cache-Tag's tags too, and both fields are read together",
			fields:   []string{"Cache-Tag: a,b", "Surrogate-Key: c a"},
			wantTags: []string{"a", "b", "c"}, purge: "c", purged: true},
		{name: "a purge of a tag the response does not carry leaves it",
			fields: []string{"Surrogate-Key: a"}, wantTags: []string{"a"}, purge: "b", purged: false},
		{name: "ForwardTagFields keeps the fields for clients (a CDN further down)",
			opts:   Options{ForwardTagFields: true},
			fields: []string{"Surrogate-Key: a b"}, wantTags: []string{"a", "b"},
			sent: []string{"a b"}, purge: "a", purged: true},
		{name: "TagFields names other fields, and the defaults are then not read (nor stripped)",
			opts:   Options{TagFields: []string{"x-tags"}},
			fields: []string{"X-Tags: a", "Surrogate-Key: b"}, wantTags: []string{"a"},
			sent: []string{"b"}, purge: "b", purged: false},
		{name: `TagFields "-" turns tags off: nothing is read, nothing stripped`,
			opts:   Options{TagFields: []string{"-"}},
			fields: []string{"Surrogate-Key: a"}, wantTags: nil, sent: []string{"a"}, purge: "a", purged: false},
		{name: "a response over MaxTags is stored with the first MaxTags, and Cache-Status says so",
			fields:   []string{"Surrogate-Key: " + seqTags(hitbox.MaxTags+1)},
			wantTags: strings.Fields(seqTags(hitbox.MaxTags)), purge: "t0", purged: true, csDetails: `detail="tags truncated"`},
		{name: "... and the tag that did not fit purges nothing",
			fields:   []string{"Surrogate-Key: " + seqTags(hitbox.MaxTags+1)},
			wantTags: strings.Fields(seqTags(hitbox.MaxTags)), purge: "t" + strconv.Itoa(hitbox.MaxTags), purged: false,
			csDetails: `detail="tags truncated"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, append([]string{"Cache-Control: max-age=600"}, tc.fields...)...)
			miss := h.get("/r")
			if cs := cacheStatusOf(miss); !strings.Contains(cs, "stored") || !strings.Contains(cs, tc.csDetails) {
				t.Fatalf("miss Cache-Status %q: want stored and %q", cs, tc.csDetails)
			}
			if got := h.tagsAt("http://example.com/r"); !slices.Equal(got, tc.wantTags) {
				t.Errorf("stored tags %q, want %q", got, tc.wantTags)
			}
			hit := h.get("/r")
			if !isHit(hit) {
				t.Fatalf("second GET: %q, want a hit", cacheStatusOf(hit))
			}
			for _, rec := range []*httptest.ResponseRecorder{miss, hit} {
				got := append(rec.Header().Values("Surrogate-Key"), rec.Header().Values("Cache-Tag")...)
				got = append(got, rec.Header().Values("X-Tags")...)
				if !slices.Equal(got, tc.sent) {
					t.Errorf("the client saw tag fields %q, want %q", got, tc.sent)
				}
			}
			if rec := h.purge("POST", "tag="+url.QueryEscape(tc.purge), ""); rec.Code != 200 {
				t.Fatalf("purge: %d %s", rec.Code, rec.Body)
			}
			if after := h.get("/r"); isHit(after) == tc.purged {
				t.Errorf("after purging %q: Cache-Status %q; want a hit: %v", tc.purge, cacheStatusOf(after), !tc.purged)
			}
		})
	}
}

func seqTags(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = "t" + strconv.Itoa(i)
	}
	return strings.Join(s, " ")
}

// TestTagsOfVariants: each variant of a varying resource (RFC 9111 §4.1)
// carries its own tags; purging one variant's tag makes that variant a
// miss and leaves the others, since the index that leads to them is
// stored untagged.
func TestTagsOfVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		lang := r.Header.Get("Accept-Language")
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Surrogate-Key", "page lang-"+lang)
		w.Header().Set("Date", h.clock.Now().Format(http.TimeFormat))
		_, _ = w.Write([]byte("in " + lang))
	}
	for _, l := range []string{"en", "fr"} {
		h.get("/r", "Accept-Language: "+l)
		if rec := h.get("/r", "Accept-Language: "+l); !isHit(rec) {
			t.Fatalf("%s: %q, want a hit", l, cacheStatusOf(rec))
		}
	}
	h.purge("POST", "tag=lang-en", "")
	if rec := h.get("/r", "Accept-Language: fr"); !isHit(rec) {
		t.Errorf("fr after purging lang-en: %q, want a hit: another variant's tag purges nothing here", cacheStatusOf(rec))
	}
	if rec := h.get("/r", "Accept-Language: en"); isHit(rec) || rec.Body.String() != "in en" {
		t.Errorf("en after purging lang-en: %q %q, want a miss", cacheStatusOf(rec), rec.Body)
	}
	h.get("/r", "Accept-Language: en")
	h.purge("POST", "tag=page", "")
	for _, l := range []string{"en", "fr"} {
		if rec := h.get("/r", "Accept-Language: "+l); isHit(rec) {
			t.Errorf("%s after purging the tag every variant carries: %q, want a miss", l, cacheStatusOf(rec))
		}
	}
}

// TestTagsOn304 checks the choice for a 304 that updates a stored
// response (RFC 9111 §3.2, §4.3.4): tag fields are fields like any other,
// so a 304 carrying one replaces the stored tags, and a 304 without one
// keeps them. The client sees neither way a tag field.
func TestTagsOn304(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fields   []string // the 304's
		wantTags []string
	}{
		{"a 304 without tag fields keeps the stored tags",
			nil, []string{"old"}},
		{"a 304 with Surrogate-Key replaces them",
			[]string{"Surrogate-Key: new other"}, []string{"new", "other"}},
		{"a 304 with Cache-Tag adds its tags to those of the stored Surrogate-Key (each field replaced on its own)",
			[]string{"Cache-Tag: new"}, []string{"new", "old"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`, "Surrogate-Key: old")
			h.get("/r")
			h.clock.Advance(20 * time.Second)
			h.origin.set(304, append([]string{"Cache-Control: max-age=600", `ETag: "v1"`}, tc.fields...)...)
			rec := h.get("/r")
			if cs := cacheStatusOf(rec); !strings.Contains(cs, "fwd-status=304") || rec.Code != 200 {
				t.Fatalf("revalidation: %d %q, want the stored 200 after a 304", rec.Code, cs)
			}
			if got := append(rec.Header().Values("Surrogate-Key"), rec.Header().Values("Cache-Tag")...); len(got) > 0 {
				t.Errorf("the client saw tag fields %q", got)
			}
			got := h.tagsAt("http://example.com/r")
			slices.Sort(got)
			if !slices.Equal(got, tc.wantTags) {
				t.Errorf("tags after the 304: %q, want %q", got, tc.wantTags)
			}
		})
	}
}

// TestTagsOverNonTagger: over a backend that keeps no tags, tagged
// responses are still cached (untagged), a purge by URL works, and a purge
// by tag answers 501 saying why. A backend may say so by lacking the
// methods (a store) or by answering them with hitbox.ErrNotSupported (a
// layer that forwards the ability to a store without it).
func TestTagsOverNonTagger(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		b    func(s *mapstore.Store) hitbox.Backend
	}{
		{"a store that is no Tagger", func(s *mapstore.Store) hitbox.Backend { return s.Basic() }},
		{"a layer that forwards tags to a store that is no Tagger", func(s *mapstore.Store) hitbox.Backend {
			return forwardingLayer{s.Basic()}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := hitboxtest.NewClock(t0)
			var logged logCount
			h := newHarnessOver(t, Options{Logger: slog.New(&logged)}, clock, tc.b(mapstore.New(mapstore.Options{Now: clock.Now})))
			h.origin.set(200, "Cache-Control: max-age=600", "Surrogate-Key: a")
			h.get("/r")
			h.get("/s")
			rec := h.get("/r")
			if !isHit(rec) {
				t.Fatalf("second GET: %q, want a hit", cacheStatusOf(rec))
			}
			if len(rec.Header().Values("Surrogate-Key")) > 0 {
				t.Errorf("the tag field reached the client: %q", rec.Header().Values("Surrogate-Key"))
			}
			if n := logged.n.Load(); n != 1 {
				t.Errorf("%d warnings for two untagged stores, want one", n)
			}
			rec = h.purge("POST", "tag=a", "")
			if rec.Code != http.StatusNotImplemented || !strings.Contains(rec.Body.String(), "keeps no tags") {
				t.Errorf("purge by tag: %d %s; want 501 saying the backend keeps no tags", rec.Code, rec.Body)
			}
			if rec := h.get("/r"); !isHit(rec) {
				t.Errorf("after the refused purge: %q, want still a hit", cacheStatusOf(rec))
			}
			if rec := h.purge("POST", "url="+url.QueryEscape("http://example.com/r"), ""); rec.Code != 200 {
				t.Errorf("purge by URL: %d %s, want 200", rec.Code, rec.Body)
			}
			if rec := h.get("/r"); isHit(rec) {
				t.Errorf("after the purge by URL: %q, want a miss", cacheStatusOf(rec))
			}
		})
	}
}

// forwardingLayer is a layer as package layer writes them: it has every
// Tagger method, and forwards each through the hitbox helper, which says
// ErrNotSupported when the backend below keeps no tags.
type forwardingLayer struct{ hitbox.Backend }

func (l forwardingLayer) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	return hitbox.SetTagged(ctx, l.Backend, key, e, tags...)
}

func (l forwardingLayer) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	return hitbox.GetTagged(ctx, l.Backend, key)
}

func (l forwardingLayer) InvalidateTags(ctx context.Context, tags ...string) error {
	return hitbox.InvalidateTags(ctx, l.Backend, tags...)
}

// TestTagOverflowLoggedOnce: responses carrying too many tags are each
// stored with those that fit, and the log hears of it once.
func TestTagOverflowLoggedOnce(t *testing.T) {
	t.Parallel()
	var logged logCount
	h := newHarness(t, Options{Logger: slog.New(&logged)})
	h.origin.set(200, "Cache-Control: max-age=600", "Surrogate-Key: "+seqTags(hitbox.MaxTags+1))
	for _, p := range []string{"/a", "/b"} {
		if cs := cacheStatusOf(h.get(p)); !strings.Contains(cs, "stored") || !strings.Contains(cs, "tags truncated") {
			t.Errorf("%s: Cache-Status %q, want stored with tags truncated", p, cs)
		}
	}
	if n := logged.n.Load(); n != 1 {
		t.Errorf("%d warnings, want one", n)
	}
}

// logCount is a slog.Handler counting warnings.
type logCount struct{ n atomic.Int64 }

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		l.n.Add(1)
	}
	return nil
}
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCount) WithGroup(string) slog.Handler      { return l }
