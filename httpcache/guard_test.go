package httpcache

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestInvalidationRacingStore checks RFC 9111 §4.4 against requests in
// flight: a response asked for before a successful POST invalidated its
// URI is not stored after the invalidation, whichever way it was asked
// for. Each case holds the origin's answer, runs the POST, then releases
// the answer, and checks that the next GET goes to the origin.
func TestInvalidationRacingStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		stored []string      // the response stored before, if any
		after  time.Duration // clock advance before the held request
		held   []string      // the held answer's fields
		code   int           // the held answer's status
	}{
		{name: "a miss (a collapse leader) asked before the POST",
			held: []string{"Cache-Control: max-age=600"}, code: 200},
		{name: "a validation whose 304 arrives after the POST (§4.3.4)",
			stored: []string{"Cache-Control: max-age=10", `ETag: "v1"`}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600", `ETag: "v1"`}, code: 304},
		{name: "a stale-while-revalidate refresh (RFC 5861 §3) on the request's goroutine",
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600"}, code: 200},
		{name: "a detached stale-while-revalidate refresh",
			opts:   Options{DetachedRefresh: true},
			stored: []string{"Cache-Control: max-age=10, stale-while-revalidate=60"}, after: 20 * time.Second,
			held: []string{"Cache-Control: max-age=600"}, code: 200},
		{name: "a varying miss",
			held: []string{"Cache-Control: max-age=600", "Vary: Accept-Language"}, code: 200},
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
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusNoContent)
					return
				}
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
			h.do(http.MethodPost, "/r")
			close(release)
			if cs := <-done; strings.Contains(cs, "stored") {
				t.Errorf("the held response was announced as stored: %q", cs)
			}
			_ = h.cache.Close() // a detached refresh has ended
			h.origin.set(200, "Cache-Control: max-age=600")
			if rec := h.get("/r", "Accept-Language: en"); isHit(rec) {
				t.Errorf("§4.4: a response asked for before the invalidation was stored after it: %q %q",
					cacheStatusOf(rec), rec.Body)
			}
		})
	}
}

// TestInvalidationDuringStore checks the other order: the store has
// passed its check and its write lands after the invalidation's delete.
// It must then take back what it wrote.
func TestInvalidationDuringStore(t *testing.T) {
	t.Parallel()
	clock := hitboxtest.NewClock(t0)
	b := &holdingSet{Store: mapstore.New(mapstore.Options{Now: clock.Now}),
		setting: make(chan struct{}), release: make(chan struct{})}
	h := newHarnessOver(t, Options{}, clock, b)
	h.origin.set(200, "Cache-Control: max-age=600")
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.get("/r")
	}()
	<-b.setting // the GET's store passed its check and is writing
	h.origin.set(204)
	h.do(http.MethodPost, "/r")
	close(b.release)
	<-done
	h.origin.set(200, "Cache-Control: max-age=600")
	if rec := h.get("/r"); isHit(rec) {
		t.Errorf("§4.4: a write that landed after the invalidation's delete stayed: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

// holdingSet holds the first Set or SetLeased (the way a store goes when
// the backend is a hitbox.Leaser, as mapstore is) until released.
type holdingSet struct {
	*mapstore.Store
	setting chan struct{}
	release chan struct{}
	held    bool
}

func (b *holdingSet) hold() {
	if !b.held {
		b.held = true
		close(b.setting)
		<-b.release
	}
}

func (b *holdingSet) Set(ctx context.Context, key string, e hitbox.Entry) error {
	b.hold()
	return b.Store.Set(ctx, key, e)
}

func (b *holdingSet) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	b.hold()
	return b.Store.SetLeased(ctx, key, e, tags, l)
}
