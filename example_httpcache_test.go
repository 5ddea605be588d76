package hitbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/tier"
)

// The HTTP response cache as chi middleware on some routes, over a pipeline
// like any other: here a tier with one in-process level, so Cache-Status
// names the level that answered.
func Example_httpcache() {
	l1, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	pipeline := hitbox.Chain(layer.Encode()).Then(tier.New(l1))
	defer hitbox.Close(pipeline)
	cache := httpcache.New(pipeline, httpcache.Options{})
	defer cache.Close()

	r := chi.NewRouter()
	r.With(cache.Middleware).Get("/articles/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "article "+chi.URLParam(r, "id"))
	})
	r.Get("/now", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not cached")
	})

	for _, path := range []string{"/articles/7", "/articles/7", "/now"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Printf("%s: %s [%s]\n", path, rec.Body, rec.Header().Get("Cache-Status"))
	}
	// Output:
	// /articles/7: article 7 [hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=60]
	// /articles/7: article 7 [hitbox; hit; ttl=60; detail="tier.memory"]
	// /now: not cached []
}
