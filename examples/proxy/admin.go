package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hitbox-go/hitbox/httpcache"
)

// The admin listener's views of the cache, behind the same token as
// /purge, read by cmd/hitbox (inspect --proxy, stats --proxy):
//
//	GET /cache?url=U[&header=Name:value...]
//	    what is stored for U: each variant with its Vary values, when it
//	    was stored, its age and freshness left, validators, tags, size and
//	    the level that holds it (httpcache.Inspection as JSON). With Redis
//	    every variant is listed; with memory alone, the one the header
//	    parameters select.
//	GET /cache/stats
//	    the requests served since the proxy started, by Cache-Status
//	    result (hit, or why it went forward) and by the level that
//	    answered (its detail).

// cacheView answers GET /cache.
func cacheView(cache *httpcache.Cache, keys func(ctx context.Context, prefix string) ([]string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		u := q.Get("url")
		if u == "" {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "give url=URL, the absolute URL clients ask for"})
			return
		}
		opts := httpcache.InspectOptions{Header: http.Header{}, VariantKeys: keys}
		for _, h := range q["header"] {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "header=" + h + ": want Name:value"})
				return
			}
			opts.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		in, err := cache.Inspect(r.Context(), u, opts)
		if err != nil {
			status := http.StatusServiceUnavailable
			if in.Key == "" { // the URL itself was refused
				status = http.StatusBadRequest
			}
			writeAdminJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		writeAdminJSON(w, http.StatusOK, in)
	})
}

// cacheStats counts the requests the cache answered by its Cache-Status
// member, for GET /cache/stats.
type cacheStats struct {
	name string // this cache's member of Cache-Status
	// plainHits counts the hits with no detail (what the front of hot
	// responses answers), which count nothing else, so they take no lock:
	// a lock every request takes would be where all the proxy's hits meet.
	plainHits atomic.Int64
	// mu guards the counts of the other requests.
	mu     sync.Mutex
	others int64            // requests other than plain hits
	hits   int64            // hits among them
	fwds   map[string]int64 // by fwd reason
	levels map[string]int64
}

func newCacheStats(name string) *cacheStats {
	return &cacheStats{name: name, fwds: map[string]int64{}, levels: map[string]int64{}}
}

// count wraps the cache's handler and counts each request from the
// Cache-Status the cache set, as its final header goes out: before the
// client can read the response, so a client that asks /cache/stats next
// finds its request counted. The wrapping writers are pooled: nothing
// keeps a ResponseWriter once its handler has returned.
func (s *cacheStats) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := countingWriters.Get().(*countingWriter)
		cw.ResponseWriter, cw.s, cw.counted = w, s, false
		cw.conn, _ = r.Context().Value(framingKey{}).(*framingConn)
		next.ServeHTTP(cw, r)
		cw.note()
		if cw.conn != nil {
			cw.conn.holdWrites(false)
		}
		*cw = countingWriter{}
		countingWriters.Put(cw)
	})
}

var countingWriters = sync.Pool{New: func() any { return new(countingWriter) }}

// note counts the request once, and reports whether it was a hit.
func (s *cacheStats) note(h http.Header) bool {
	hit, fwd, level := s.parse(h["Cache-Status"])
	if hit && level == "" {
		s.plainHits.Add(1)
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.others++
	switch {
	case hit:
		s.hits++
	case fwd != "":
		if !knownFwd(fwd) {
			fwd = "other"
		}
		addCount(s.fwds, fwd)
	}
	if level != "" {
		if _, ok := s.levels[level]; !ok && len(s.levels) >= maxLevels {
			level = "other"
		}
		addCount(s.levels, level)
	}
	return hit
}

// maxLevels bounds the distinct details counted: a detail is a piece of a
// header an origin could also have sent, and the counts live as long as
// the process.
const maxLevels = 64

// knownFwd reports whether v is one of RFC 9211's fwd reasons; others are
// counted together, so an origin cannot grow the counts without bound.
func knownFwd(v string) bool {
	switch v {
	case "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial":
		return true
	}
	return false
}

// addCount counts one for k. A new key is copied: it is a piece of a
// header value, which the map would otherwise keep whole.
func addCount(m map[string]int64, k string) {
	if _, ok := m[k]; !ok {
		k = strings.Clone(k)
	}
	m[k]++
}

// countingWriter counts its request when the final header is written.
type countingWriter struct {
	http.ResponseWriter
	s       *cacheStats
	counted bool
	// conn is the client's connection, which holds a hit's writes to
	// send them in one system call (coalesce.go); nil over HTTP/2.
	conn *framingConn
}

func (c *countingWriter) note() {
	if !c.counted {
		c.counted = true
		if c.s.note(c.ResponseWriter.Header()) && c.conn != nil {
			c.conn.holdWrites(true)
		}
	}
}

func (c *countingWriter) WriteHeader(code int) {
	if code >= 200 { // not an interim response (103 Early Hints)
		c.note()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.note()
	return c.ResponseWriter.Write(b)
}

// Flush sends what is buffered, as the cache does while it streams: held
// writes too.
func (c *countingWriter) Flush() {
	c.note()
	if c.conn != nil {
		c.conn.holdWrites(false)
	}
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	if c.conn != nil {
		c.conn.sendHeld()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// parse finds this cache's member among Cache-Status lines and returns
// whether it is a hit, else its fwd reason, and its detail (the level that
// answered, or the backend's failure). The strings are pieces of lines.
// The last member under this cache's name counts: a cache appends its own
// member after those upstream (RFC 9211 §2), and an origin may send one
// under any name.
func (s *cacheStats) parse(lines []string) (hit bool, fwd, detail string) {
	if len(lines) == 1 && s.plainHit(lines[0]) {
		return true, "", ""
	}
	for _, line := range lines {
		for member := range strings.SplitSeq(line, ",") {
			name, params, _ := strings.Cut(member, ";")
			if strings.TrimSpace(name) != s.name {
				continue
			}
			hit, fwd, detail = false, "", ""
			for p := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				switch k {
				case "hit":
					hit = true
				case "fwd":
					if fwd == "" {
						fwd = v
					}
				case "detail":
					detail = strings.Trim(v, `"`)
				}
			}
		}
	}
	if hit {
		fwd = ""
	}
	return hit, fwd, detail
}

// plainHit reports whether line is this cache's member alone, a hit with
// no parameter but ttl: what the front of hot responses sends, read
// without splitting.
func (s *cacheStats) plainHit(line string) bool {
	rest, ok := strings.CutPrefix(line, s.name)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "; hit")
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	ttl, ok := strings.CutPrefix(rest, "; ttl=")
	if !ok || ttl == "" {
		return false
	}
	for i := 0; i < len(ttl); i++ {
		if (ttl[i] < '0' || ttl[i] > '9') && !(i == 0 && ttl[i] == '-') {
			return false
		}
	}
	return true
}

// counts returns the requests and the hits counted, with s.mu held. Both
// take the plain hits from one load, so they agree whatever plain hits
// are being counted meanwhile.
func (s *cacheStats) counts() (requests, hits int64) {
	plain := s.plainHits.Load()
	return plain + s.others, plain + s.hits
}

// ServeHTTP answers GET /cache/stats.
func (s *cacheStats) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	requests, hits := s.counts()
	results := make(map[string]int64, len(s.fwds)+1)
	if hits > 0 {
		results["hit"] = hits
	}
	for reason, n := range s.fwds {
		results["fwd="+reason] = n
	}
	body := map[string]any{"requests": requests, "results": results, "levels": maps.Clone(s.levels)}
	s.mu.Unlock()
	writeAdminJSON(w, http.StatusOK, body)
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
