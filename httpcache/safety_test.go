package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestUnkeyedFieldsBypass: a request carrying a field that rewrites what
// the origin serves, and that the key does not cover, is neither answered
// from nor written to the cache (poisoning).
func TestUnkeyedFieldsBypass(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		field  string
		bypass bool
	}{
		{"X-Original-URL rewrites the path (IIS, Symfony)", Options{}, "X-Original-URL: /admin", true},
		{"X-Rewrite-URL rewrites the path", Options{}, "X-Rewrite-URL: /admin", true},
		{"X-HTTP-Method-Override turns a GET into a DELETE", Options{}, "X-HTTP-Method-Override: DELETE", true},
		{"X-HTTP-Method does too", Options{}, "X-HTTP-Method: PUT", true},
		{"X-Method-Override does too", Options{}, "X-Method-Override: PUT", true},
		{"X-Forwarded-Host changes the host links are made for", Options{}, "X-Forwarded-Host: evil.example", true},
		{"X-Forwarded-Proto changes the scheme", Options{}, "X-Forwarded-Proto: http", true},
		{"X-Forwarded-Port changes the port", Options{}, "X-Forwarded-Port: 1337", true},
		{"X-Forwarded-Prefix changes the path prefix", Options{}, "X-Forwarded-Prefix: /evil", true},
		{"X-Forwarded-Scheme changes the scheme", Options{}, "X-Forwarded-Scheme: nothttps", true},
		{"X-Forwarded-Server changes the host", Options{}, "X-Forwarded-Server: evil.example", true},
		{"X-Host changes the host", Options{}, "X-Host: evil.example", true},
		{"Forwarded carries host= and proto=", Options{}, "Forwarded: host=evil.example", true},
		{"X-Forwarded-For names the client, which every proxy sends", Options{}, "X-Forwarded-For: 192.0.2.1", false},
		{"a lone \"-\" turns the check off", Options{BypassFields: []string{"-"}}, "X-Forwarded-Host: evil.example", false},
		{"a list replaces the defaults", Options{BypassFields: []string{"x-tenant"}}, "X-Tenant: b", true},
		{"a list replaces the defaults, which then pass", Options{BypassFields: []string{"x-tenant"}}, "X-Forwarded-Host: evil.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, "Cache-Control: max-age=60")
			first := h.get("/r", tc.field)
			if got := strings.Contains(cacheStatusOf(first), "fwd=bypass"); got != tc.bypass {
				t.Errorf("bypass = %v, want %v (Cache-Status %q)", got, tc.bypass, cacheStatusOf(first))
			}
			if rec := h.get("/r"); isHit(rec) == tc.bypass {
				t.Errorf("a plain request after it: hit = %v, want %v", isHit(rec), !tc.bypass)
			}
			// Stored by the plain request (or the first): the field still
			// bypasses what is stored.
			if rec := h.get("/r", tc.field); isHit(rec) == tc.bypass {
				t.Errorf("with a response stored: hit = %v, want %v", isHit(rec), !tc.bypass)
			}
		})
	}
}

// TestRequestBodyBypass: a GET or HEAD with content is not answered from
// or written to the cache: its content is not in the key.
func TestRequestBodyBypass(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    Options
		chunked bool
		bypass  bool
	}{
		{"a Content-Length", Options{}, false, true},
		{"a chunked body", Options{}, true, true},
		{"Options.StoreRequestBody lets it through", Options{StoreRequestBody: true}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, "Cache-Control: max-age=60")
			req := httptest.NewRequest("GET", "http://example.com/r", strings.NewReader(`{"q":"x"}`))
			if tc.chunked {
				req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
			}
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
			if got := strings.Contains(cacheStatusOf(rec), "fwd=bypass"); got != tc.bypass {
				t.Errorf("bypass = %v, want %v (Cache-Status %q)", got, tc.bypass, cacheStatusOf(rec))
			}
			if rec := h.get("/r"); isHit(rec) == tc.bypass {
				t.Errorf("a plain request after it: hit = %v, want %v", isHit(rec), !tc.bypass)
			}
		})
	}
}

// TestCredentialedRequests: web cache deception. A response to a request
// with credentials is never stored on a lifetime the cache guesses, and
// one to a request with Cookie only when it says public or s-maxage.
func TestCredentialedRequests(t *testing.T) {
	t.Parallel()
	lastMod := "Last-Modified: " + t0.Add(-240*60*60*1e9).Format(http.TimeFormat)
	cases := []struct {
		name   string
		opts   Options
		req    string
		resp   []string
		stored bool
	}{
		{"Cookie, only Last-Modified: no heuristic lifetime for a user's page", Options{}, "Cookie: s=1", []string{lastMod}, false},
		{"Cookie, max-age alone: may be that user's", Options{}, "Cookie: s=1", []string{"Cache-Control: max-age=60"}, false},
		{"Cookie, public and max-age: said shared", Options{}, "Cookie: s=1", []string{"Cache-Control: public, max-age=60"}, true},
		{"Cookie, s-maxage: said shared", Options{}, "Cookie: s=1", []string{"Cache-Control: s-maxage=60"}, true},
		{"Cookie, public with only Last-Modified: still a guess", Options{}, "Cookie: s=1", []string{"Cache-Control: public", lastMod}, false},
		{"Cookie, a DefaultTTL is a guess too", Options{DefaultTTL: 60e9}, "Cookie: s=1", []string{"Cache-Control: public"}, false},
		{"StoreCookieRequests: max-age alone stores", Options{StoreCookieRequests: true}, "Cookie: s=1", []string{"Cache-Control: max-age=60"}, true},
		{"StoreCookieRequests: a heuristic still does not", Options{StoreCookieRequests: true}, "Cookie: s=1", []string{lastMod}, false},
		{"Authorization, must-revalidate on a heuristic: no", Options{}, "Authorization: Basic eDp5", []string{"Cache-Control: must-revalidate", lastMod}, false},
		{"Authorization, public and max-age (§3.5)", Options{}, "Authorization: Basic eDp5", []string{"Cache-Control: public, max-age=60"}, true},
		{"no credentials: a heuristic lifetime stores", Options{}, "Accept: */*", []string{lastMod}, true},
		{"a private cache stores a user's responses", Options{Private: true}, "Cookie: s=1", []string{"Cache-Control: max-age=60"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, tc.resp...)
			first := h.get("/account/x.css", tc.req)
			if got := strings.Contains(cacheStatusOf(first), "; stored"); got != tc.stored {
				t.Errorf("stored = %v, want %v (Cache-Status %q)", got, tc.stored, cacheStatusOf(first))
			}
			if rec := h.get("/account/x.css"); isHit(rec) != tc.stored {
				t.Errorf("an anonymous request after it: hit = %v, want %v", isHit(rec), tc.stored)
			}
		})
	}
}

// TestStoredReadsBack: what the reader would refuse is not written, and
// Cache-Status says why.
func TestStoredReadsBack(t *testing.T) {
	t.Parallel()
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	varyNames := make([]string, maxStoredVary+1)
	for i := range varyNames {
		varyNames[i] = fmt.Sprintf("x-v%d", i)
	}
	cases := []struct {
		name   string
		fields []string
		detail string
	}{
		{"more Vary names than a stored response holds",
			[]string{"Cache-Control: max-age=60", "Vary: " + strings.Join(varyNames, ", ")}, whyVaryNames},
		{"more header fields than a stored response holds",
			append([]string{"Cache-Control: max-age=60"}, many(maxStoredFields, func(i int) string { return fmt.Sprintf("X-F%d: v", i) })...), whyFields},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			h.origin.set(200, tc.fields...)
			first := h.get("/r")
			cs := cacheStatusOf(first)
			if strings.Contains(cs, "; stored") || !strings.Contains(cs, tc.detail) {
				t.Errorf("Cache-Status %q: want not stored, detail %q", cs, tc.detail)
			}
			second := h.get("/r")
			if strings.Contains(cacheStatusOf(second), "corrupt") {
				t.Errorf("what was written does not read back: %q", cacheStatusOf(second))
			}
		})
	}
}

// keyLimit is a backend that refuses keys over max bytes, as memstore
// refuses those over its limit.
type keyLimit struct {
	hitbox.Backend
	max int
}

func (k keyLimit) check(key string) error {
	if len(key) > k.max {
		return fmt.Errorf("key of %d bytes: %w", len(key), hitbox.ErrInvalidKey)
	}
	return nil
}

func (k keyLimit) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if err := k.check(key); err != nil {
		return hitbox.Entry{}, err
	}
	return k.Backend.Get(ctx, key)
}

func (k keyLimit) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if err := k.check(key); err != nil {
		return err
	}
	return k.Backend.Set(ctx, key, e)
}

// TestLongURLs: a URL longer than a store's key limit is cached all the
// same, under a bounded key, and the stored full key tells URLs apart.
func TestLongURLs(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("a", 4000)
	cases := []struct {
		name   string
		target string
		fields []string
	}{
		{"a long path", long, nil},
		{"a long query", "/r?q=" + strings.Repeat("b", 4000), nil},
		{"a long path whose response varies", long, []string{"Accept-Language: en"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := hitboxtest.NewClock(t0)
			store := mapstore.New(mapstore.Options{Now: clock.Now})
			h := newHarnessOver(t, Options{}, clock, keyLimit{Backend: store, max: 512})
			h.origin.set(200, "Cache-Control: max-age=60", "Vary: Accept-Language")
			first := h.get(tc.target, tc.fields...)
			if strings.Contains(cacheStatusOf(first), "backend") {
				t.Errorf("a long URL is a backend fault: %q", cacheStatusOf(first))
			}
			if rec := h.get(tc.target, tc.fields...); !isHit(rec) {
				t.Errorf("a long URL is not cached: %q", cacheStatusOf(rec))
			}
			if rec := h.get(tc.target+"z", tc.fields...); isHit(rec) {
				t.Error("two long URLs sharing a beginning share a response")
			}
		})
	}
	t.Run("a stored response of another URL at a bounded key is a miss", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=60")
		a, b := long+"?a", long+"?b"
		h.get(a)
		ka := h.cache.primaryKey(httptest.NewRequest("GET", "http://example.com"+a, nil))
		kb := h.cache.primaryKey(httptest.NewRequest("GET", "http://example.com"+b, nil))
		e, err := h.store.Get(context.Background(), ka)
		if err != nil {
			t.Fatal(err)
		}
		// As if the two keys collided: b's key holds a's response.
		if err := h.store.Set(context.Background(), kb, e); err != nil {
			t.Fatal(err)
		}
		if rec := h.get(b); isHit(rec) {
			t.Errorf("another URL's response answered: %q", rec.Body)
		}
	})
}

// TestBadOriginStatus: a status outside 100-599 is answered 502, not a
// panic in net/http or a status passed on.
func TestBadOriginStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		status int
		want   int
		body   string
	}{
		{"a status under 100", Options{}, 99, 502, badGatewayBody},
		{"a status of 600 and more", Options{}, 700, 502, badGatewayBody},
		{"stale-if-error answers with what is stored", Options{StaleIfError: 3600e9}, 700, 200, "body 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			h.origin.set(200, "Cache-Control: max-age=1")
			h.get("/r")
			h.clock.Advance(2e9)
			h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("origin body"))
			}
			rec := h.get("/r", "Cache-Control: no-cache")
			if rec.Code != tc.want || rec.Body.String() != tc.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tc.want, tc.body)
			}
			if rec := h.get("/r"); strings.Contains(rec.Body.String(), "origin body") {
				t.Error("the bad response was stored")
			}
		})
	}
}

// TestUpstreamCacheStatus: the well-formed members an upstream cache sent
// are kept, the others dropped, so clients can still parse the field.
func TestUpstreamCacheStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		line    string
		kept    []string
		dropped int
	}{
		{"well formed members stay", `edge; hit; ttl=10, "Origin Cache"; fwd=uri-miss; detail="x"`,
			[]string{`edge; hit; ttl=10`, `"Origin Cache"; fwd=uri-miss; detail="x"`}, 0},
		{"a member starting with a digit is no item", `1bad; hit, edge; hit`, []string{`edge; hit`}, 1},
		{"a parameter key in upper case is malformed", `edge; Hit, cdn; fwd=stale`, []string{`cdn; fwd=stale`}, 1},
		{"an unterminated string", `edge; detail="open, cdn; hit`, nil, 1},
		{"a parameter with no value after '='", `edge; ttl=, cdn; hit`, []string{`cdn; hit`}, 1},
		{"garbage after a member", `edge; hit junk, cdn; hit`, []string{`cdn; hit`}, 1},
		{"booleans, decimals and byte sequences are parameter values", `edge; a=?1; b=1.5; c=:aGk=:; d=-3`,
			[]string{`edge; a=?1; b=1.5; c=:aGk=:; d=-3`}, 0},
		{"an integer of 16 digits is too long", `edge; ttl=1234567890123456`, nil, 1},
		{"empty members are skipped", `, edge; hit ,`, []string{`edge; hit`}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kept, dropped := splitStatusMembers(tc.line)
			if strings.Join(kept, "|") != strings.Join(tc.kept, "|") || dropped != tc.dropped {
				t.Errorf("kept %q, dropped %d; want %q, %d", kept, dropped, tc.kept, tc.dropped)
			}
		})
	}
	t.Run("through the middleware", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=60", `Cache-Status: edge; hit, 1bad`)
		rec := h.get("/r")
		got := rec.Header().Values("Cache-Status")
		if len(got) != 2 || got[0] != "edge; hit" || !strings.HasPrefix(got[1], "hitbox;") {
			t.Errorf("Cache-Status %q, want the upstream member kept, the bad one dropped, ours last", got)
		}
	})
}

// TestTargetNotInURISyntax: a path with bytes a URI cannot hold ("/é" as
// raw UTF-8) has no one spelling at the origin (a proxy's client sends
// it percent-encoded, a handler may read it as sent), so it is neither
// answered from nor stored: keyed as sent it would escape the
// invalidation and purge of its encoded form, keyed as encoded it would
// merge with a target the handler can tell apart. Valid spellings,
// "%c3%a9" in lower case included, are cached as sent.
func TestTargetNotInURISyntax(t *testing.T) {
	t.Parallel()
	cases := []struct {
		target string
		bypass bool
	}{
		{"/\u00e9", true},
		{"/a|b", true},
		{"/%C3%A9", false},
		{"/%c3%a9", false},
		{"/a%2Fb", false},
		{"/a?q=\u00e9", false}, // a query goes on as sent: keyed as sent
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{})
			h.origin.set(200, "Cache-Control: max-age=60")
			first := h.get(tc.target)
			if got := strings.Contains(cacheStatusOf(first), "fwd=bypass"); got != tc.bypass {
				t.Errorf("bypass = %v, want %v (Cache-Status %q)", got, tc.bypass, cacheStatusOf(first))
			}
			if rec := h.get(tc.target); isHit(rec) == tc.bypass {
				t.Errorf("again: hit = %v, want %v (Cache-Status %q)", isHit(rec), !tc.bypass, cacheStatusOf(rec))
			}
		})
	}
	t.Run("RFC 9111 §4.4: an unsafe request to the raw form invalidates the encoded one, which a proxy's client sends for both", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=60")
		h.get("/%C3%A9")
		h.origin.set(204)
		h.do(http.MethodPost, "/\u00e9")
		h.origin.set(200, "Cache-Control: max-age=60")
		if rec := h.get("/%C3%A9"); isHit(rec) {
			t.Errorf("still stored after a POST to the raw form: %q", cacheStatusOf(rec))
		}
	})
	t.Run("the encoded form, stored, does not answer the raw one", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{})
		h.origin.set(200, "Cache-Control: max-age=60")
		h.get("/%C3%A9")
		if rec := h.get("/\u00e9"); isHit(rec) {
			t.Errorf("the raw form was answered from the encoded one: %q", cacheStatusOf(rec))
		}
	})
}
