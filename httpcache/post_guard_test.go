package httpcache

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPOSTRacingChange: a POST whose response names its target (RFC 9110
// §9.3.3) is not stored when another change to the URI happened while it
// was on its way to the origin: its response may describe the resource
// before that change. Without one it is (the control case).
func TestPOSTRacingChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(h *harness)
		stored bool
	}{
		{name: "no other change: stored", change: func(*harness) {}, stored: true},
		{name: "a PUT to the URI succeeded meanwhile", change: func(h *harness) { h.do(http.MethodPut, "/r") }},
		{name: "the URL was purged meanwhile", change: func(h *harness) {
			req := httptest.NewRequest(http.MethodPost, "/purge?url=http://example.com/r", nil)
			h.cache.PurgeHandler().ServeHTTP(httptest.NewRecorder(), req)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			called, release := make(chan struct{}), make(chan struct{})
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				close(called)
				<-release
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Content-Location", "/r")
				_, _ = w.Write([]byte("posted"))
			}
			done := make(chan string)
			go func() { done <- cacheStatusOf(h.do(http.MethodPost, "/r")) }()
			<-called
			tc.change(h)
			close(release)
			cs := <-done
			if got := strings.Contains(cs, "stored"); got != tc.stored {
				t.Errorf("announced as stored = %v, want %v: %q", got, tc.stored, cs)
			}
			h.origin.set(200, "Cache-Control: max-age=600")
			if rec := h.get("/r"); isHit(rec) != tc.stored {
				t.Errorf("a GET after it: hit = %v, want %v (%q %q)", isHit(rec), tc.stored, cacheStatusOf(rec), rec.Body)
			}
		})
	}
}
