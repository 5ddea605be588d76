package httpcache

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestValidationWith304(t *testing.T) {
	t.Parallel()
	lm := t0.Add(-time.Hour).Format(http.TimeFormat)
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`, "Last-Modified: "+lm, "X-Version: 1", "Content-Type: text/plain")
	h.get("/r")
	h.clock.Advance(20 * time.Second)

	h.origin.set(304, "Cache-Control: max-age=100", `ETag: "v1"`, "X-Version: 2", "Content-Length: 999")
	rec := h.get("/r")
	req := h.origin.lastRequest()
	if got := req.Header.Get("If-None-Match"); got != `"v1"` {
		t.Errorf("§4.3.1: If-None-Match = %q, want the stored ETag", got)
	}
	if got := req.Header.Get("If-Modified-Since"); got != lm {
		t.Errorf("§4.3.1: If-Modified-Since = %q, want the stored Last-Modified", got)
	}
	if rec.Code != 200 || rec.Body.String() != "body 1" {
		t.Fatalf("§4.3.4: a 304 answers with the stored body: %d %q", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("X-Version"); got != "2" {
		t.Errorf("§3.2: X-Version = %q, want the 304's", got)
	}
	if got := rec.Header().Get("Content-Length"); got != "6" {
		t.Errorf("§3.2: Content-Length = %q, is never updated from a 304", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("§3.2: Content-Type = %q, kept from the stored response", got)
	}
	if got := cacheStatusOf(rec); got != "hitbox; fwd=stale; fwd-status=304; stored; ttl=100" {
		t.Errorf("Cache-Status = %q", got)
	}
	// The updated freshness (max-age=100) holds from the 304 on.
	h.clock.Advance(50 * time.Second)
	rec = h.get("/r")
	if !isHit(rec) || rec.Header().Get("X-Version") != "2" || rec.Header().Get("Age") != "50" {
		t.Errorf("§4.3.4: after the update: %q X-Version %q Age %q", cacheStatusOf(rec), rec.Header().Get("X-Version"), rec.Header().Get("Age"))
	}
	if h.origin.count() != 2 {
		t.Errorf("%d origin calls, want 2", h.origin.count())
	}
}

func TestValidationFullResponseReplaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`)
	h.get("/r")
	h.clock.Advance(20 * time.Second)
	h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v2"`)
	rec := h.get("/r")
	if rec.Body.String() != "body 2" {
		t.Fatalf("§4.3.3: a full response answers: %q", rec.Body)
	}
	rec = h.get("/r")
	if !isHit(rec) || rec.Body.String() != "body 2" || rec.Header().Get("ETag") != `"v2"` {
		t.Errorf("§4.3.3: the full response replaced the stored one: %q %q", cacheStatusOf(rec), rec.Body)
	}
}

// TestValidation304WithSetCookie checks that a Set-Cookie in a 304 reaches
// the client it answers, while the stored response is freshened without
// it (RFC 9111 §3.2, §4.3.4; Options.StoreSetCookie off).
func TestValidation304WithSetCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=1", `ETag: "e"`)
	h.get("/r")
	h.clock.Advance(5 * time.Second)
	h.origin.set(304, "Cache-Control: max-age=3600", `ETag: "e"`, "Set-Cookie: user=1")
	rec := h.get("/r")
	if rec.Code != 200 || rec.Body.String() != "body 1" || rec.Header().Get("Set-Cookie") != "user=1" {
		t.Fatalf("the validated response: %d %q Set-Cookie %q", rec.Code, rec.Body, rec.Header().Get("Set-Cookie"))
	}
	h.clock.Advance(10 * time.Second)
	rec = h.get("/r")
	if !isHit(rec) || rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Age") != "10" {
		t.Errorf("next request: %q Set-Cookie %q Age %q, want a hit without the cookie", cacheStatusOf(rec), rec.Header().Get("Set-Cookie"), rec.Header().Get("Age"))
	}
}

// TestForwardedResponseHasNoStoredFields checks that when a stored
// response is found but not used, none of its fields reach the client
// with the response that is (the hit path builds them in the response
// header and takes them out again).
func TestForwardedResponseHasNoStoredFields(t *testing.T) {
	t.Parallel()
	for _, req := range [][]string{nil, {"Cache-Control: only-if-cached"}, {"Cache-Control: no-cache"}} {
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`, "X-Old: 1")
		h.get("/r")
		h.clock.Advance(20 * time.Second)
		h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v2"`)
		rec := h.get("/r", req...)
		if got := rec.Header().Get("X-Old"); got != "" || rec.Header().Get("ETag") == `"v1"` {
			t.Errorf("request %q: %d with X-Old %q ETag %q from the stored response", req, rec.Code, got, rec.Header().Get("ETag"))
		}
	}
}

func TestValidation304WithOtherStrongETagUpdatesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`)
	h.get("/r")
	h.clock.Advance(20 * time.Second)
	calls := 0
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Header.Get("If-None-Match") != "" {
			w.Header().Set("ETag", `"other"`)
			w.WriteHeader(304)
			return
		}
		w.Header().Set("ETag", `"v3"`)
		w.Header().Set("Cache-Control", "max-age=10")
		_, _ = w.Write([]byte("fresh"))
	}
	rec := h.get("/r")
	if rec.Code != 200 || rec.Body.String() != "fresh" || calls != 2 {
		t.Errorf("§4.3.4: a 304 naming another strong ETag must not update; the cache asks again: %d %q after %d calls", rec.Code, rec.Body, calls)
	}
}

// TestValidation304Selects checks which 304s update the stored response
// (RFC 9111 §4.3.4). One that does not makes the cache ask again without
// validators, and the full response answers.
func TestValidation304Selects(t *testing.T) {
	t.Parallel()
	lm := t0.Add(-time.Hour).Format(http.TimeFormat)
	cases := []struct {
		name   string
		stored []string
		upd    []string // the 304's validator fields
		update bool
	}{
		{"§4.3.4: a strong ETag the stored response has updates it",
			[]string{`ETag: "v1"`}, []string{`ETag: "v1"`}, true},
		{"§4.3.4: a strong ETag it does not have updates nothing",
			[]string{`ETag: "v1"`}, []string{`ETag: "v2"`}, false},
		{"§4.3.4: a weak ETag that matches weakly updates it",
			[]string{`ETag: W/"v1"`}, []string{`ETag: W/"v1"`}, true},
		{"§4.3.4: a weak ETag that matches no stored tag updates nothing",
			[]string{`ETag: W/"v1"`}, []string{`ETag: W/"v2"`}, false},
		{"§4.3.4: a Last-Modified equal to the stored one updates it",
			[]string{"Last-Modified: " + lm}, []string{"Last-Modified: " + lm}, true},
		{"§4.3.4: a Last-Modified other than the stored one updates nothing",
			[]string{"Last-Modified: " + lm}, []string{"Last-Modified: " + t0.Format(http.TimeFormat)}, false},
		{"§4.3.4: a 304 without validators answers the cache's own and updates it",
			[]string{`ETag: "v1"`, "Last-Modified: " + lm}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			h.origin.set(200, append([]string{"Cache-Control: max-age=10"}, tc.stored...)...)
			h.get("/r")
			h.clock.Advance(20 * time.Second)
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=100")
				if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
					for _, f := range tc.upd {
						name, value, _ := strings.Cut(f, ":")
						w.Header().Set(name, strings.TrimSpace(value))
					}
					w.WriteHeader(http.StatusNotModified)
					return
				}
				_, _ = w.Write([]byte("full"))
			}
			rec := h.get("/r")
			want := "full"
			if tc.update {
				want = "body 1"
			}
			if rec.Code != 200 || rec.Body.String() != want {
				t.Errorf("%d %q (%q), want %q", rec.Code, rec.Body, cacheStatusOf(rec), want)
			}
		})
	}
}

func TestClientConditionals(t *testing.T) {
	t.Parallel()
	lm := t0.Add(-time.Hour).Format(http.TimeFormat)
	cases := []struct {
		name string
		req  []string
		want int
		resp []string // the stored response's fields, when not the usual
	}{
		{"§4.3.2: If-None-Match with the stored ETag gives 304", []string{`If-None-Match: "v1"`}, 304, nil},
		{"§4.3.2, RFC 9110 §8.8.3.2: If-None-Match compares weakly", []string{`If-None-Match: W/"v1"`}, 304, nil},
		{"RFC 9110 §13.1.2: If-None-Match in a list", []string{`If-None-Match: "x", "v1"`}, 304, nil},
		{"RFC 9110 §13.1.2: If-None-Match: * matches", []string{`If-None-Match: *`}, 304, nil},
		{"§4.3.2: If-None-Match with another ETag gives 200", []string{`If-None-Match: "v0"`}, 200, nil},
		{"§4.3.2: If-Modified-Since at Last-Modified gives 304", []string{"If-Modified-Since: " + lm}, 304, nil},
		{"§4.3.2: If-Modified-Since before Last-Modified gives 200", []string{"If-Modified-Since: " + t0.Add(-2*time.Hour).Format(http.TimeFormat)}, 200, nil},
		{"§4.3.2: If-None-Match takes precedence over If-Modified-Since", []string{`If-None-Match: "v0"`, "If-Modified-Since: " + lm}, 200, nil},
		{"RFC 9110 §13.1.3: an invalid If-Modified-Since is ignored", []string{"If-Modified-Since: yesterday"}, 200, nil},
		{"RFC 9110 §13.1.2: If-None-Match: * matches a stored response without ETag", []string{`If-None-Match: *`}, 304,
			[]string{"Cache-Control: max-age=60", "Content-Type: text/plain"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			resp := tc.resp
			if resp == nil {
				resp = []string{"Cache-Control: max-age=60", `ETag: "v1"`, "Last-Modified: " + lm, "Content-Type: text/plain"}
			}
			h.origin.set(200, resp...)
			h.get("/r")
			rec := h.get("/r", tc.req...)
			if rec.Code != tc.want || h.origin.count() != 1 {
				t.Fatalf("status %d after %d origin calls, want %d from the cache", rec.Code, h.origin.count(), tc.want)
			}
			if tc.want == 304 {
				if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" || tc.resp == nil && rec.Header().Get("ETag") != `"v1"` {
					t.Errorf("RFC 9110 §15.4.5: 304 carries %q and body %q", rec.Header(), rec.Body)
				}
			}
		})
	}
}

func TestHEADFreshensStoredGET(t *testing.T) {
	t.Parallel()
	t.Run("§4.3.5: matching validators update the stored header fields", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=10", `ETag: "v1"`, "X-Version: 1")
		h.get("/r")
		h.clock.Advance(20 * time.Second)
		h.origin.set(200, "Cache-Control: max-age=100", `ETag: "v1"`, "X-Version: 2")
		head := h.do(http.MethodHead, "/r", "Cache-Control: no-cache")
		if head.Code != 200 {
			t.Fatalf("HEAD: %d", head.Code)
		}
		rec := h.get("/r")
		if !isHit(rec) || rec.Header().Get("X-Version") != "2" || rec.Body.String() != "body 1" {
			t.Errorf("GET after HEAD: %q X-Version %q body %q", cacheStatusOf(rec), rec.Header().Get("X-Version"), rec.Body)
		}
	})
	t.Run("§4.3.5: a different ETag makes the stored response unusable", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=100", `ETag: "v1"`)
		h.get("/r")
		h.origin.set(200, "Cache-Control: max-age=100", `ETag: "v2"`)
		h.do(http.MethodHead, "/r", "Cache-Control: no-cache")
		rec := h.get("/r")
		if isHit(rec) || rec.Body.String() != "body 3" {
			t.Errorf("GET after a HEAD with another ETag: %q %q", cacheStatusOf(rec), rec.Body)
		}
	})
}

func TestInvalidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		method      string
		status      int
		fields      []string
		invalidated []string // paths whose stored response is gone
		kept        []string
	}{
		{"§4.4: a 200 to POST invalidates the target URI", "POST", 200, nil, []string{"/r"}, []string{"/other"}},
		{"§4.4: a 204 to DELETE invalidates the target URI", "DELETE", 204, nil, []string{"/r"}, nil},
		{"§4.4: a method of unknown safety invalidates too", "FROB", 200, nil, []string{"/r"}, nil},
		{"§4.4: a 3xx is a non-error status", "PUT", 303, []string{"Location: /other"}, []string{"/r", "/other"}, nil},
		{"§4.4: an error status does not invalidate", "POST", 500, nil, nil, []string{"/r"}},
		{"§4.4: Location and Content-Location of the same origin are invalidated", "POST", 201,
			[]string{"Location: /other", "Content-Location: http://example.com/third"}, []string{"/r", "/other", "/third"}, nil},
		{"§4.4: a Location of another origin is not", "POST", 201,
			[]string{"Location: http://elsewhere.example/other"}, []string{"/r"}, []string{"/other"}},
		{"§4.4: a safe method (OPTIONS) does not invalidate", "OPTIONS", 200, nil, nil, []string{"/r"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			h.origin.set(200, "Cache-Control: max-age=600")
			for _, p := range []string{"/r", "/other", "/third"} {
				h.get(p)
			}
			h.origin.set(tc.status, tc.fields...)
			h.do(tc.method, "/r")
			for _, p := range tc.invalidated {
				if isHit(h.get(p)) {
					t.Errorf("%s still answered from the cache", p)
				}
			}
			for _, p := range tc.kept {
				if !isHit(h.get(p)) {
					t.Errorf("%s no longer answered from the cache", p)
				}
			}
		})
	}
}

func TestInvalidationReachesEveryVariant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=600", "Vary: Accept-Language")
	h.get("/r", "Accept-Language: en")
	h.get("/r", "Accept-Language: fr")
	h.do(http.MethodPost, "/r")
	h.get("/r", "Accept-Language: en") // stores a new index
	rec := h.get("/r", "Accept-Language: fr")
	if isHit(rec) {
		t.Errorf("§4.4: the fr variant stored before the POST was found again: %q", cacheStatusOf(rec))
	}
}

func TestVaryVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Add("Vary", "accept-language")
		w.Header().Add("Vary", "Accept-Encoding")
		_, _ = w.Write([]byte(r.Header.Get("Accept-Language") + "|" + r.Header.Get("Accept-Encoding")))
	}
	steps := []struct {
		name   string
		fields []string
		hit    bool
		body   string
	}{
		{"§4.1: the first request stores a variant", []string{"Accept-Language: en", "Accept-Encoding: gzip"}, false, "en|gzip"},
		{"§4.1: the same field values select it", []string{"Accept-Language: en", "Accept-Encoding: gzip"}, true, "en|gzip"},
		{"§4.1: values differing only in case and whitespace select it too", []string{"Accept-Language: EN ", "Accept-Encoding: GZIP"}, true, "en|gzip"},
		{"§4.1: another value is a vary-miss", []string{"Accept-Language: fr", "Accept-Encoding: gzip"}, false, "fr|gzip"},
		{"§4.1: both variants coexist", []string{"Accept-Language: en", "Accept-Encoding: gzip"}, true, "en|gzip"},
		{"§4.1: ... the second too", []string{"Accept-Language: fr", "Accept-Encoding: gzip"}, true, "fr|gzip"},
		{"§4.1: a field absent from the request only matches absence", []string{"Accept-Encoding: gzip"}, false, "|gzip"},
		{"RFC 9110 §12.5.3: list order of Accept-Encoding does not matter", []string{"Accept-Language: en", "Accept-Encoding: br, gzip"}, false, "en|br, gzip"},
		{"... so the reordered list selects that variant", []string{"Accept-Language: en", "Accept-Encoding: gzip, br"}, true, "en|br, gzip"},
	}
	for _, s := range steps {
		rec := h.get("/r", s.fields...)
		if isHit(rec) != s.hit || rec.Body.String() != s.body {
			t.Errorf("%s: hit=%v body %q (Cache-Status %q)", s.name, isHit(rec), rec.Body, cacheStatusOf(rec))
		}
	}
	if got := cacheStatusOf(h.get("/r", "Accept-Language: de")); !strings.Contains(got, "fwd=vary-miss") {
		t.Errorf("RFC 9211: Cache-Status %q, want fwd=vary-miss", got)
	}
}

func TestRangeFromStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=600", `ETag: "v1"`, "Content-Type: text/plain")
	h.origin.body = "0123456789"
	h.get("/r")
	cases := []struct {
		name   string
		fields []string
		status int
		body   string
		cr     string
	}{
		{"RFC 9110 §14.2: a single range is served from the stored response", []string{"Range: bytes=2-4"}, 206, "234", "bytes 2-4/10"},
		{"RFC 9110 §14.1.2: a suffix range", []string{"Range: bytes=-3"}, 206, "789", "bytes 7-9/10"},
		{"RFC 9110 §15.5.17: an unsatisfiable range is 416", []string{"Range: bytes=20-30"}, 416, "", "bytes */10"},
		{"RFC 9110 §14.2: a unit other than bytes is ignored", []string{"Range: lines=1-2"}, 200, "0123456789", ""},
		{"RFC 9110 §13.1.5: If-Range with the strong ETag allows the range", []string{"Range: bytes=0-0", `If-Range: "v1"`}, 206, "0", "bytes 0-0/10"},
		{"RFC 9110 §13.1.5: If-Range with another ETag sends the whole", []string{"Range: bytes=0-0", `If-Range: "v0"`}, 200, "0123456789", ""},
	}
	for _, tc := range cases {
		rec := h.get("/r", tc.fields...)
		if rec.Code != tc.status || rec.Body.String() != tc.body || rec.Header().Get("Content-Range") != tc.cr {
			t.Errorf("%s: %d %q Content-Range %q", tc.name, rec.Code, rec.Body, rec.Header().Get("Content-Range"))
		}
		if !isHit(rec) {
			t.Errorf("%s: not from the cache: %q", tc.name, cacheStatusOf(rec))
		}
	}
	if h.origin.count() != 1 {
		t.Errorf("%d origin calls", h.origin.count())
	}
}

func TestRangeMissPassesThrough(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Range", "bytes 0-1/10")
		w.WriteHeader(206)
		_, _ = w.Write([]byte("01"))
	}
	rec := h.get("/r", "Range: bytes=0-1")
	if rec.Code != 206 || rec.Body.String() != "01" {
		t.Fatalf("partial response passed through: %d %q", rec.Code, rec.Body)
	}
	if isHit(h.get("/r")) {
		t.Error("§3.3: a 206 was stored as a complete response")
	}
}

func TestTargetedField(t *testing.T) {
	t.Parallel()
	runReuse(t, []reuseCase{
		{name: "RFC 9213 §2.1: CDN-Cache-Control takes precedence over Cache-Control",
			resp: []string{"CDN-Cache-Control: max-age=600", "Cache-Control: no-store"}, after: time.Minute, reuse: true},
		{name: "RFC 9213 §2.1: ... and over Expires",
			resp: []string{"CDN-Cache-Control: max-age=600", "Expires: 0"}, after: time.Minute, reuse: true},
		{name: "RFC 9213 §2.1: no-store there prevents storing",
			resp: []string{"CDN-Cache-Control: no-store", "Cache-Control: max-age=600"}, after: time.Second},
		{name: "RFC 9213 §2.1: an invalid targeted field is ignored",
			resp: []string{"CDN-Cache-Control: max-age=600,,", "Cache-Control: no-store"}, after: time.Second},
		{name: "RFC 9213 §2.1: upper-case keys are not a valid Dictionary",
			resp: []string{"CDN-Cache-Control: Max-Age=600", "Cache-Control: no-store"}, after: time.Second},
		{name: "RFC 9213 §2.2: an unknown member does not spoil max-age (a Dictionary, not Cache-Control)",
			resp: []string{"CDN-Cache-Control: max-age=600, x=1", "Cache-Control: no-store"}, after: time.Minute, reuse: true},
		{name: "RFC 9213 §2.2: no-store=?0 is no no-store",
			resp: []string{"CDN-Cache-Control: no-store=?0, max-age=600", "Cache-Control: no-store"}, after: time.Minute, reuse: true},
		{name: "RFC 9213 §2.2, RFC 8941 §4.2.2: a repeated key takes its last value",
			resp: []string{"CDN-Cache-Control: max-age=10, max-age=600", "Cache-Control: no-store"}, after: time.Minute, reuse: true},
		{name: "Options.TargetField names another field",
			opts: Options{TargetField: "Example-Cache-Control"},
			resp: []string{"Example-Cache-Control: max-age=600", "Cache-Control: no-store"}, after: time.Minute, reuse: true},
		{name: "Options.TargetField \"-\" turns targeting off",
			opts: Options{TargetField: "-"},
			resp: []string{"CDN-Cache-Control: max-age=600", "Cache-Control: no-store"}, after: time.Second},
	})
	t.Run("RFC 9213 §2.1: the field is removed downstream unless ForwardTargetField", func(t *testing.T) {
		t.Parallel()
		for _, fwd := range []bool{false, true} {
			h := newHarness(t, Options{ForwardTargetField: fwd})
			h.origin.set(200, "CDN-Cache-Control: max-age=600")
			miss, hit := h.get("/r"), h.get("/r")
			for _, rec := range []*httptest.ResponseRecorder{miss, hit} {
				if got := rec.Header().Get("CDN-Cache-Control") != ""; got != fwd {
					t.Errorf("ForwardTargetField %v: field present = %v", fwd, got)
				}
			}
		}
	})
}

func TestOriginPreconditionsGoThroughUnchanged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.origin.set(200, "Cache-Control: max-age=60", `ETag: "v1"`)
	h.get("/r")
	h.origin.set(412)
	rec := h.get("/r", `If-Match: "v0"`)
	req := h.origin.lastRequest()
	if rec.Code != 412 || req.Header.Get("If-Match") != `"v0"` || req.Header.Get("If-None-Match") != "" {
		t.Errorf("§4.3.2: If-Match is for the origin: %d, origin saw If-Match %q If-None-Match %q",
			rec.Code, req.Header.Get("If-Match"), req.Header.Get("If-None-Match"))
	}
}
