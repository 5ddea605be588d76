package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStoredAtTheLastByte: a response with a Content-Length is stored as
// its last byte is written, before the client has it, so a request the
// client makes as soon as it has the whole response (on another
// connection, or one that cannot join the flight) finds it stored; the
// proxy's conformance tests saw such a request go to the origin now and
// then. Without a length the end is known only when the handler returns.
func TestStoredAtTheLastByte(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		length bool
		writes []string
		hit    bool
	}{
		{"a Content-Length, one write", true, []string{"whole"}, true},
		{"a Content-Length, the last of several writes", true, []string{"wh", "o", "le"}, true},
		{"no Content-Length: stored when the handler returns", false, []string{"whole"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			var calls atomic.Int32
			var inner *httptest.ResponseRecorder
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) > 1 {
					w.Header().Set("Cache-Control", "max-age=60")
					_, _ = io.WriteString(w, "again")
					return
				}
				w.Header().Set("Cache-Control", "max-age=60")
				if tc.length {
					w.Header().Set("Content-Length", "5")
				}
				for _, s := range tc.writes {
					_, _ = io.WriteString(w, s)
				}
				// The client has it all; it asks again before this
				// handler returns, with a request no flight takes.
				inner = h.get("/r", "Cache-Control: max-stale=1")
			}
			if rec := h.get("/r"); rec.Body.String() != "whole" {
				t.Fatalf("first response %q", rec.Body)
			}
			if isHit(inner) != tc.hit || tc.hit && inner.Body.String() != "whole" {
				t.Errorf("the request made at the last byte: hit = %v (%q %q), want %v",
					isHit(inner), cacheStatusOf(inner), inner.Body, tc.hit)
			}
			if rec := h.get("/r"); !isHit(rec) || !strings.Contains("whole again", rec.Body.String()) {
				t.Errorf("afterwards: %q %q, want a hit", cacheStatusOf(rec), rec.Body)
			}
		})
	}
}
