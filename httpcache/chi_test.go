package httpcache

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestChiURLParamsRefresh checks the default stale-while-revalidate refresh
// under chi's r.Use with a handler that reads URL parameters, over a real
// server. chi keeps URL parameters in a route context it takes from a pool
// for each request and puts back when the request ends. Each refresh here
// reads its parameter only after another request was routed since the
// stale response went out: a refresh that outlived its request would find
// its route context reset or reused by that request (and the race detector
// would see it), and store "item  v2" under the key of item N.
func TestChiURLParamsRefresh(t *testing.T) {
	const n = 10
	clock := hitboxtest.NewClock(t0)
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	cache := New(store, Options{Now: clock.Now})
	t.Cleanup(func() { _ = cache.Close() })

	routed := make([]chan struct{}, n) // closed when /other/{i} has been routed
	for i := range routed {
		routed[i] = make(chan struct{})
	}
	r := chi.NewRouter()
	r.Use(cache.Middleware)
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		version := "v1"
		if r.Header.Get("If-None-Match") != "" {
			// The refresh: wait until another request went through chi.
			i, _ := strconv.Atoi(r.URL.Path[len("/items/"):])
			select {
			case <-routed[i]:
			case <-r.Context().Done():
				return
			}
			version = "v2"
		}
		id := chi.URLParam(r, "id")
		w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		w.Header().Set("ETag", `"`+version+"-"+id+`"`)
		_, _ = io.WriteString(w, "item "+id+" "+version)
	})
	r.Get("/other/{name}", func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(chi.URLParam(r, "name"))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "other")
		close(routed[i])
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	// Two clients: the one fetching items keeps its connection, and on
	// HTTP/1.1 its next request waits for the refresh; the other must not.
	items := &http.Client{Transport: &http.Transport{}}
	other := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer items.CloseIdleConnections()
	get := func(c *http.Client, path string) (string, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), resp.Header.Get("Cache-Status")
	}

	for i := range n {
		if body, _ := get(items, fmt.Sprintf("/items/%d", i)); body != fmt.Sprintf("item %d v1", i) {
			t.Fatalf("first response for item %d: %q", i, body)
		}
	}
	clock.Advance(20 * time.Second)
	for i := range n {
		// RFC 5861 §3: the stale response first, whole, then the refresh.
		if body, cs := get(items, fmt.Sprintf("/items/%d", i)); body != fmt.Sprintf("item %d v1", i) {
			t.Fatalf("stale response for item %d: %q %q", i, body, cs)
		}
		get(other, fmt.Sprintf("/other/%d", i))
	}
	_ = cache.Close() // every refresh has been stored
	for i := range n {
		if body, cs := get(items, fmt.Sprintf("/items/%d", i)); body != fmt.Sprintf("item %d v2", i) {
			t.Errorf("item %d after its refresh: %q %q, want its own refreshed response", i, body, cs)
		}
	}
}
