package httpcache_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// TestVaryStoresKept: every response that varies is stored when nothing
// crossed its request. memstore keeps leases by stripes of keys (1,024),
// so about one variant key in 1,024 shares a stripe with its primary key;
// a plain write of the variant would then end the request's own lease on
// the primary key and the index written next would be refused, as if a
// purge had crossed the request. Over 6,000 URLs that loses one or more
// stores with a probability of 99.7 %.
func TestVaryStoresKept(t *testing.T) {
	store, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cache := httpcache.New(store, httpcache.Options{})
	defer cache.Close()
	h := cache.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.Header().Set("Vary", "Accept-Language")
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	lost := 0
	for i := range 6000 {
		url := "http://example.test/r" + strconv.Itoa(i)
		var status string
		for range 2 {
			req := httptest.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Accept-Language", "en")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			status = rec.Header().Get("Cache-Status")
		}
		if !strings.Contains(status, "; hit") {
			lost++
			if lost <= 3 {
				t.Errorf("%s: the second request was not a hit: Cache-Status %q", url, status)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of 6000 varying responses were not kept", lost)
	}
}
