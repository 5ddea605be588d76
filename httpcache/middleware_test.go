package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSmokeHitAfterMiss(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60", "Content-Type: text/plain")
	r1 := h.get("/a")
	if r1.Code != 200 || r1.Body.String() != "body 1" {
		t.Fatalf("first: %d %q", r1.Code, r1.Body)
	}
	if got := cacheStatusOf(r1); got != "hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=60" {
		t.Errorf("first Cache-Status = %q", got)
	}
	h.clock.Advance(10 * time.Second)
	r2 := h.get("/a")
	if r2.Body.String() != "body 1" || h.origin.count() != 1 {
		t.Fatalf("second: %q after %d calls", r2.Body, h.origin.count())
	}
	if got := cacheStatusOf(r2); got != "hitbox; hit; ttl=50" {
		t.Errorf("second Cache-Status = %q", got)
	}
	if got := r2.Header().Get("Age"); got != "10" {
		t.Errorf("Age = %q, want 10", got)
	}
	if got := r2.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q", got)
	}
	if !strings.Contains(r2.Header().Get("Content-Length"), "6") {
		t.Errorf("Content-Length = %q", r2.Header().Get("Content-Length"))
	}
	_ = http.MethodGet
}
