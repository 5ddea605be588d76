package httpcache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// The middleware on a chi router: the second request is answered from the
// cache, with its age and this cache's Cache-Status.
func Example() {
	store, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	calls := 0
	r := chi.NewRouter()
	cache := httpcache.New(store, httpcache.Options{})
	defer cache.Close()
	r.Use(cache.Middleware)
	r.Get("/hello", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello\n")
	})

	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/hello", nil))
		fmt.Print(rec.Body.String())
		fmt.Println(rec.Header().Get("Cache-Status"))
	}
	fmt.Println("handler calls:", calls)
	// Output:
	// hello
	// hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=60
	// hello
	// hitbox; hit; ttl=60
	// handler calls: 1
}

// The middleware in plain net/http, keeping the Cache to close it at
// shutdown. An unsafe method invalidates what was stored for its URI.
func ExampleCache_Middleware() {
	store, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	cache := httpcache.New(store, httpcache.Options{CacheName: "edge"})
	defer cache.Close()

	version := 1
	h := cache.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			version++
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		fmt.Fprintf(w, "version %d", version)
	}))
	do := func(method string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "http://example.com/doc", nil))
		fmt.Printf("%s %d %q %s\n", method, rec.Code, rec.Body.String(), rec.Header().Get("Cache-Status"))
	}
	do("GET")
	do("GET")
	do("PUT")
	do("GET")
	// Output:
	// GET 200 "version 1" edge; fwd=uri-miss; fwd-status=200; stored; ttl=3600
	// GET 200 "version 1" edge; hit; ttl=3600
	// PUT 204 "" edge; fwd=method; fwd-status=204
	// GET 200 "version 2" edge; fwd=uri-miss; fwd-status=200; stored; ttl=3600
}
