package httpcache_test

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// The purge handler on an admin mux, behind a bearer token: a purge by URL
// answers 200 when something was stored, then 404, and the next request
// for the URL goes to the handler.
func ExampleCache_PurgeHandler() {
	store, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	cache := httpcache.New(store, httpcache.Options{})
	defer cache.Close()
	site := cache.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Surrogate-Key", "docs page-1") // stored as tags, not sent on
		fmt.Fprint(w, "a page")
	}))

	// Mount it where only operators reach it, behind your own
	// authentication (here a bearer token).
	admin := http.NewServeMux()
	admin.Handle("/purge", bearer("s3cret", cache.PurgeHandler()))

	get := func() {
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/page", nil))
		fmt.Printf("GET %s [%s]\n", rec.Header().Get("Cache-Status"), rec.Header().Get("Surrogate-Key"))
	}
	purge := func(token string) {
		req := httptest.NewRequest("POST", "/purge?url=http://example.com/page", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, req)
		fmt.Print("purge ", rec.Code, " ", rec.Body.String())
	}
	get()
	get()
	purge("guess")
	purge("s3cret")
	purge("s3cret")
	get()
	// Output:
	// GET hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=3600 []
	// GET hitbox; hit; ttl=3600 []
	// purge 401 unauthorized
	// purge 200 {"url":"http://example.com/page","removed":true}
	// purge 404 {"url":"http://example.com/page","removed":false}
	// GET hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=3600 []
}

// bearer lets through the requests that carry token as a bearer token,
// compared in constant time (of hashes, so the length leaks nothing).
func bearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="purge"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
