package httpcache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// TestLeaseOtherTags stores responses through the leases of stores that
// check a lease for exactly the tags it was taken for: a tagged response
// on a first miss (a lease taken for no tags), one whose tags changed on
// a refresh, and a varying one whose index is written again through a
// lease taken for its variant's tags. Each must be stored, and a purge of
// its new tag must still drop it.
func TestLeaseOtherTags(t *testing.T) {
	mem, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []hitbox.Backend{mapstore.New(mapstore.Options{}), mem} {
		t.Run(b.Label(), func(t *testing.T) {
			if _, ok := b.(hitbox.Leaser); !ok {
				t.Fatalf("%s is no Leaser", b.Label())
			}
			c := New(b, Options{})
			defer c.Close()
			n := 0
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n++
				w.Header().Set("Cache-Control", "max-age=0, must-revalidate")
				if r.URL.Path == "/fresh" {
					w.Header().Set("Cache-Control", "max-age=300")
				}
				if r.URL.Path == "/varied" {
					w.Header().Set("Vary", "Accept-Language")
				}
				w.Header().Set("ETag", fmt.Sprintf(`"%d"`, n))
				w.Header().Set("Surrogate-Key", fmt.Sprintf("%s v%d", r.URL.Path, n))
				fmt.Fprintf(w, "%s %d", r.URL.Path, n)
			}))
			get := func(path string) string {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "http://example.com"+path, nil)
				req.Header.Set("Accept-Language", "fr")
				h.ServeHTTP(rec, req)
				return rec.Header().Get("Cache-Status")
			}
			if cs := get("/fresh"); !isStored(cs) {
				t.Fatalf("first GET /fresh: %q, want stored", cs)
			}
			if cs := get("/fresh"); !hasHit(cs) {
				t.Fatalf("second GET /fresh: %q, want a hit", cs)
			}
			// max-age=0: each request refreshes the stored response, through
			// a lease for the tags it had, and stores new ones.
			for _, path := range []string{"/stale", "/stale", "/varied", "/varied"} {
				if cs := get(path); !isStored(cs) {
					t.Fatalf("GET %s: %q, want stored", path, cs)
				}
			}
			in, err := c.Inspect(t.Context(), "http://example.com/stale", InspectOptions{})
			if err != nil || len(in.Variants) != 1 {
				t.Fatalf("Inspect /stale: %+v %v", in, err)
			}
			if err := hitbox.InvalidateTags(t.Context(), b, in.Variants[0].Tags[1]); err != nil {
				t.Fatal(err)
			}
			if in, _ = c.Inspect(t.Context(), "http://example.com/stale", InspectOptions{}); len(in.Variants) != 0 {
				t.Errorf("after the purge of its newest tag /stale is still stored: %+v", in)
			}
		})
	}
}

func isStored(cs string) bool { return containsParam(cs, "stored") }
func hasHit(cs string) bool   { return containsParam(cs, "hit") }

// containsParam reports whether a Cache-Status line has the parameter p.
func containsParam(cs, p string) bool {
	for _, f := range strings.Split(cs, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(f), "=")
		if k == p {
			return true
		}
	}
	return false
}
