package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/redistest"
)

// variedOrigin serves /page, tagged and with validators, and /varied,
// which varies on Accept-Encoding.
func variedOrigin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("ETag", `"p1"`)
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Surrogate-Key", "docs page")
		case "/varied":
			w.Header().Set("Vary", "Accept-Encoding")
		}
		fmt.Fprintf(w, "%s for %q", r.URL.Path, r.Header.Get("Accept-Encoding"))
	})
}

// TestAdminCache reads what the proxy holds through GET /cache and its
// counts through GET /cache/stats, on memory alone and over Redis (where
// every variant is listed), behind the admin token.
func TestAdminCache(t *testing.T) {
	srv := httptest.NewServer(variedOrigin())
	defer srv.Close()
	cases := []struct {
		name     string
		redis    bool
		variants int    // of /varied, asked with header=Accept-Encoding:gzip
		level    string // what /page's level starts with
	}{
		{"memory alone lists the variant the header selects", false, 1, ""},
		{"over Redis every variant is listed, with its level", true, 2, "tier."}, // memory, or Redis when the tier dropped its copy
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			if tc.redis {
				extra = []string{"-redis", redistest.Start(t).Addr}
			}
			base, admin, _ := startProxy(t, srv.URL, extra...)
			c := &http.Client{Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			do(t, c, "GET", base+"/page", "")
			if r := do(t, c, "GET", base+"/page", ""); !hit(r) {
				t.Fatalf("second GET /page: %q, want a hit", r.header.Get("Cache-Status"))
			}
			do(t, c, "GET", base+"/varied", "", "Accept-Encoding", "gzip")
			// Each request names its Accept-Encoding: http.Transport adds
			// gzip to a request that names none.
			do(t, c, "GET", base+"/varied", "", "Accept-Encoding", "br")
			auth := []string{"Authorization", "Bearer " + testToken}

			if r := do(t, c, "GET", admin+"/cache?url="+url.QueryEscape(base+"/page"), ""); r.status != http.StatusUnauthorized {
				t.Errorf("GET /cache without the token: %d, want 401", r.status)
			}
			var page httpcache.Inspection
			r := do(t, c, "GET", admin+"/cache?url="+url.QueryEscape(base+"/page"), "", auth...)
			if err := json.Unmarshal([]byte(r.body), &page); err != nil || r.status != 200 || len(page.Variants) != 1 {
				t.Fatalf("GET /cache /page: %d %s (%v)", r.status, r.body, err)
			}
			v := page.Variants[0]
			if v.Status != 200 || v.ETag != `"p1"` || !slices.Equal(v.Tags, []string{"docs", "page"}) || v.FreshFor <= 0 || v.FreshFor > 300 || !strings.HasPrefix(v.Level, tc.level) {
				t.Errorf("/page variant: %+v", v)
			}

			// The proxy stores a response once its client has it: the last
			// variant may not be stored yet, so ask again a few times.
			var varied httpcache.Inspection
			for try := 0; ; try++ {
				varied = httpcache.Inspection{}
				r = do(t, c, "GET", admin+"/cache?url="+url.QueryEscape(base+"/varied")+"&header=Accept-Encoding:gzip", "", auth...)
				err := json.Unmarshal([]byte(r.body), &varied)
				if err == nil && len(varied.Variants) == tc.variants {
					break
				}
				if err != nil || try == 50 {
					t.Fatalf("GET /cache /varied: %d %s (%v), want %d variants", r.status, r.body, err, tc.variants)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !slices.Equal(varied.Vary, []string{"accept-encoding"}) {
				t.Errorf("/varied varies on %q", varied.Vary)
			}
			var got []string
			for _, v := range varied.Variants {
				got = append(got, v.VaryValues["accept-encoding"])
			}
			slices.Sort(got)
			if want := []string{"=br", "=gzip"}[2-tc.variants:]; !slices.Equal(got, want) {
				t.Errorf("/varied variants selected by %q, want %q", got, want)
			}

			if r := do(t, c, "GET", admin+"/cache", "", auth...); r.status != http.StatusBadRequest {
				t.Errorf("GET /cache without url: %d, want 400", r.status)
			}

			var stats struct {
				Requests int64            `json:"requests"`
				Results  map[string]int64 `json:"results"`
			}
			r = do(t, c, "GET", admin+"/cache/stats", "", auth...)
			if err := json.Unmarshal([]byte(r.body), &stats); err != nil {
				t.Fatalf("GET /cache/stats: %s (%v)", r.body, err)
			}
			if stats.Requests != 4 || stats.Results["hit"] != 1 || stats.Results["fwd=uri-miss"] != 2 || stats.Results["fwd=vary-miss"] != 1 {
				t.Errorf("stats %+v, want 4 requests: 1 hit, 2 uri-miss and a vary-miss", stats)
			}
		})
	}
}

func TestCacheStatsParse(t *testing.T) {
	s := newCacheStats("edge")
	cases := []struct {
		lines          []string
		result, detail string
	}{
		{[]string{`edge; hit; ttl=10; detail="tier.memory"`}, "hit", "tier.memory"},
		{[]string{`upstream; hit`, `edge; fwd=uri-miss; fwd-status=200; stored`}, "fwd=uri-miss", ""},
		{[]string{`upstream; hit, edge; fwd=stale; detail="backend unavailable"`}, "fwd=stale", "backend unavailable"},
		{[]string{`other; hit`}, "", ""},
		// An origin's member under this cache's name does not count for it:
		// the cache's own member comes last.
		{[]string{`edge; hit; detail="forged"`, `edge; fwd=uri-miss`}, "fwd=uri-miss", ""},
		{[]string{`edge; fwd=made-up, edge; hit`}, "hit", ""},
		// What the front of hot responses sends, read without splitting,
		// and near misses of it.
		{[]string{`edge; hit; ttl=3599`}, "hit", ""},
		{[]string{`edge; hit; ttl=-2`}, "hit", ""},
		{[]string{`edge; hit`}, "hit", ""},
		{[]string{`edge; hits`}, "", ""},
		{[]string{`edgeX; hit; ttl=5`}, "", ""},
		{[]string{`edge; hit; ttl=5, edge; fwd=uri-miss`}, "fwd=uri-miss", ""},
		{[]string{`edge; hit; ttl=5; detail="x"`}, "hit", "x"},
	}
	for _, tc := range cases {
		hit, fwd, d := s.parse(tc.lines)
		r := fwd
		if hit {
			r = "hit"
		} else if fwd != "" {
			r = "fwd=" + fwd
		}
		if r != tc.result || d != tc.detail {
			t.Errorf("parse(%q) = %q, %q; want %q, %q", tc.lines, r, d, tc.result, tc.detail)
		}
	}
}

// TestCacheStatsBounded: fwd reasons outside RFC 9211's and details past
// maxLevels are counted as "other", so responses cannot grow the counts'
// maps without bound.
func TestCacheStatsBounded(t *testing.T) {
	s := newCacheStats("edge")
	for i := range 1000 {
		s.note(http.Header{"Cache-Status": {fmt.Sprintf(`edge; fwd=x%d; detail="d%d"`, i, i)}})
	}
	s.note(http.Header{"Cache-Status": {`edge; fwd=uri-miss`}})
	if len(s.fwds) != 2 || s.fwds["other"] != 1000 || s.fwds["uri-miss"] != 1 {
		t.Errorf("fwds = %v, want other: 1000 and uri-miss: 1", s.fwds)
	}
	if len(s.levels) != maxLevels+1 || s.levels["other"] != 1000-maxLevels {
		t.Errorf("%d levels, other: %d; want %d, %d", len(s.levels), s.levels["other"], maxLevels+1, 1000-maxLevels)
	}
}

// FuzzCacheStatsParse feeds parse the Cache-Status lines an origin or an
// upstream cache may send: it must not panic, and a result it finds is
// hit or a fwd reason.
func FuzzCacheStatsParse(f *testing.F) {
	f.Add(`edge; hit; detail="tier.memory"`)
	f.Add(`upstream; hit, edge; fwd=stale; detail="backend unavailable"`)
	f.Add(`edge;;fwd;detail=`)
	s := newCacheStats("edge")
	f.Fuzz(func(t *testing.T, line string) {
		hit, fwd, _ := s.parse([]string{line})
		if hit && fwd != "" {
			t.Errorf("parse(%q): a hit with a fwd reason %q", line, fwd)
		}
	})
}

// TestCountAllocations: counting a request allocates nothing once its
// Cache-Status result has been seen (the wrapping writer is pooled, and the
// fwd reason is counted without building "fwd=reason").
func TestCountAllocations(t *testing.T) {
	s := newCacheStats("hitbox")
	h := s.count(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, status := range []string{`hitbox; hit; detail="memory"`, `hitbox; fwd=uri-miss; fwd-status=200; stored`} {
		w := &headerOnlyWriter{h: http.Header{"Cache-Status": {status}}}
		h.ServeHTTP(w, r) // the first of a kind copies its key into the map
		if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", status, n)
		}
	}
	requests, hits := s.counts()
	if requests != 204 || hits != 102 || s.fwds["uri-miss"] != 102 || s.levels["memory"] != 102 {
		t.Errorf("counted %d requests, %d hits, %v, %v", requests, hits, s.fwds, s.levels)
	}
}

// TestCacheStatsPlainHitTakesNoLock: a plain hit (what the front of hot
// responses answers) is counted without the lock the other counts share,
// which every request took before.
func TestCacheStatsPlainHitTakesNoLock(t *testing.T) {
	s := newCacheStats("edge")
	s.mu.Lock()
	done := make(chan bool)
	go func() { done <- s.note(http.Header{"Cache-Status": {"edge; hit; ttl=10"}}) }()
	select {
	case hit := <-done:
		if !hit {
			t.Error("a plain hit was not counted as a hit")
		}
	case <-time.After(5 * time.Second):
		t.Error("counting a plain hit waits on the lock")
	}
	s.mu.Unlock()
	if requests, hits := s.counts(); requests != 1 || hits != 1 {
		t.Errorf("counted %d requests, %d hits; want 1, 1", requests, hits)
	}
}

// TestCacheStatsConcurrent: requests counted from many goroutines, plain
// hits among others, are all counted, each once and as what it was, and
// GET /cache/stats meanwhile never shows more hits than requests.
func TestCacheStatsConcurrent(t *testing.T) {
	s := newCacheStats("edge")
	lines := []string{`edge; hit; ttl=10`, `edge; hit; detail="memory"`, `edge; fwd=uri-miss; fwd-status=200; stored`, `up; hit, edge; fwd=stale`}
	const workers, each = 4, 500
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.note(http.Header{"Cache-Status": {lines[(g+i)%len(lines)]}})
			}
		}()
	}
	for range 20 {
		var stats struct {
			Requests int64
			Results  map[string]int64
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/cache/stats", nil))
		if err := json.Unmarshal(rec.Body.Bytes(), &stats); err != nil || stats.Results["hit"] > stats.Requests {
			t.Fatalf("GET /cache/stats meanwhile: %s (%v)", rec.Body, err)
		}
	}
	wg.Wait()
	requests, hits := s.counts()
	const n = workers * each
	if requests != n || hits != n/2 || s.fwds["uri-miss"] != n/4 || s.fwds["stale"] != n/4 || s.levels["memory"] != n/4 {
		t.Errorf("counted %d requests, %d hits, %v, %v; want %d, %d, a quarter each", requests, hits, s.fwds, s.levels, n, n/2)
	}
}

// headerOnlyWriter is a ResponseWriter that keeps its header and drops the
// rest, so that only the counting's own allocations are seen.
type headerOnlyWriter struct{ h http.Header }

func (w *headerOnlyWriter) Header() http.Header         { return w.h }
func (w *headerOnlyWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerOnlyWriter) WriteHeader(int)             {}
