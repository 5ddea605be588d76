package httpcache_test

// Cases an audit of the middleware as a shared cache found missing from
// conformance_test.go: status codes with explicit and heuristic freshness,
// requests that carry directives and Pragma values the cache does not
// know, header fields served as received (Content-Type included),
// Set-Cookie in a 304, and a HEAD response freshening a stored response
// without validators. Most run on the harness of conformance_test.go (a
// fake clock, a scripted origin).

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

func TestAuditStatusFreshness(t *testing.T) {
	t.Parallel()
	var cases []conformanceCase
	for _, code := range []int{200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599} {
		body := fmt.Sprintf("s%d", code)
		if code == 204 {
			body = ""
		}
		cases = append(cases,
			conformanceCase{
				name: fmt.Sprintf("RFC 9111 §3, §4.2.1: a %d with max-age and a later Expires is stored and reused while fresh", code),
				ex: []ex{
					miss(status(code, "Cache-Control", "max-age=100000", "Expires", httpDate(t0.Add(100000*sec)), "Last-Modified", httpDate(t0))),
					{after: 10 * sec, status: code, age: "10", body: str(body)},
				},
			},
			conformanceCase{
				name: fmt.Sprintf("RFC 9111 §4.2.1, §4.2.2: a %d whose Expires is before Date is stale, and Last-Modified gives it no heuristic freshness", code),
				ex: []ex{
					miss(status(code, "Expires", ago(5000*sec), "Last-Modified", ago(100000*sec))),
					missAt(1*sec, ok("fresh")),
				},
			},
		)
	}
	// RFC 9110 §15.1: 201, 202, 403, 502, 503, 504 and unknown codes are
	// not heuristically cacheable.
	for _, code := range []int{201, 202, 504, 599} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §4.2.2, RFC 9110 §15.1: %d is not heuristically cacheable: Last-Modified alone does not make it reusable", code),
			ex: []ex{
				miss(status(code, "Last-Modified", ago(86400*sec))),
				missAt(10*sec, status(code, "Last-Modified", ago(86400*sec))),
			},
		})
	}
	cases = append(cases, conformanceCase{
		name: "RFC 9111 §4.2.2: public marks even an unknown status (599) explicitly cacheable, so Last-Modified gives it heuristic freshness",
		ex: []ex{
			miss(status(599, "Cache-Control", "public", "Last-Modified", ago(86400*sec))),
			{after: 10 * sec, status: 599, age: "10", body: str("s599")},
		},
	})
	runCases(t, cases)
}

func TestAuditRequests(t *testing.T) {
	t.Parallel()
	// Test clients that defeat a cache of their own send an unknown
	// Cache-Control directive and an unknown Pragma on every request.
	unknown := func(e ex) ex { return e.with("Cache-Control", "nothing-to-see-here", "Pragma", "foo") }
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §5.2.3, §5.4: an unknown request directive and Pragma: foo change nothing: the fresh stored response is reused",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(hitAt(10*sec, "a", "10")),
			}},
		{name: "RFC 9111 §5.4: Pragma: no-cache is ignored when the request has Cache-Control, even an unknown directive",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(hitAt(10*sec, "a", "10")).with("Pragma", "no-cache"),
			}},
		{name: "RFC 9111 §5.2.1.4: request no-cache on a second Cache-Control line counts",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(missAt(10*sec, ok("b", "Cache-Control", "max-age=100"))).with("Cache-Control", "no-cache"),
			}},
		{name: "RFC 9111 §5.2.1.1: request max-age=0 beside an unknown directive validates a fresh stored response",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"1"`))),
				unknown(ex{after: 10 * sec, origin: notModified("ETag", `"1"`), status: 200, body: str("a")}).with("Cache-Control", "max-age=0").sending("If-None-Match", `"1"`),
			}},
	})
}

func TestAuditHeaderStorage(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.1: security and unknown fields are stored and served as received",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "X-Frame-Options", "deny", "X-XSS-Protection", "1", "Clear-Site-Data", "cookies",
					"Strict-Transport-Security", "max-age=1", "Strict-Transport-Security2", "x", "Public-Key-Pins", "p", "Set-Cookie2", "a=b", "WWW-Authenticate", "Basic")),
				hitAt(10*sec, "a", "10").expect("X-Frame-Options", "deny", "X-XSS-Protection", "1", "Clear-Site-Data", "cookies",
					"Strict-Transport-Security", "max-age=1", "Strict-Transport-Security2", "x", "Public-Key-Pins", "p", "Set-Cookie2", "a=b", "WWW-Authenticate", "Basic"),
			}},
	})
}

// TestAuditNoContentType runs a real net/http server, which (unlike
// httptest.ResponseRecorder) adds a sniffed Content-Type to a response
// without one even after an explicit WriteHeader, unless told not to.
func TestAuditNoContentType(t *testing.T) {
	store, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cache := httpcache.NewCache(store, httpcache.Options{})
	defer cache.Close()
	srv := httptest.NewServer(cache.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush() // the header goes out as it is: no Content-Type
		_, _ = io.WriteString(w, "<html><body>")
	})))
	defer srv.Close()
	for i, want := range []string{"a miss", "a hit"} {
		resp, err := srv.Client().Get(srv.URL + "/r")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if ct := resp.Header.Values("Content-Type"); len(ct) > 0 {
			t.Errorf("response %d (%s, Cache-Status %q): Content-Type %q, want none, as the handler sent", i+1, want, resp.Header.Get("Cache-Status"), ct)
		}
	}
}

func TestAuditSetCookie(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.2 with Options.StoreSetCookie: a 304 updates a stored Set-Cookie like any field",
			opts: httpcache.Options{StoreSetCookie: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`, "Set-Cookie", "a=b")),
				{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "a=c"), status: 200, body: str("a")},
				hitAt(10*sec, "a", "10").expect("Set-Cookie", "a=c"),
			}},
		{name: "hitbox Options.StoreSetCookie off: a Set-Cookie in a 304 reaches the client it answers, and is never stored for the next one",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`)),
				ex{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "user=1"), status: 200, body: str("a")}.expect("Set-Cookie", "user=1"),
				// Safe either way: not stored (the origin is asked again,
				// unconditionally, as on a miss) or stored without it.
				ex{after: 10 * sec, origin: ok("a", "Cache-Control", "max-age=3600", "ETag", `"e"`), maybe: true, status: 200, body: str("a")}.without("Set-Cookie"),
			}},
		{name: "RFC 9111 §3.2, §4.3.4: a 304 with Set-Cookie (Options.StoreSetCookie off) still freshens the stored response, without the cookie",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`)),
				ex{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "user=1"), status: 200, body: str("a")}.expect("Set-Cookie", "user=1"),
				hitAt(10*sec, "a", "10").without("Set-Cookie"),
			}},
	})
}

func TestAuditHEAD(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.3.5: a 200 to a HEAD freshens a stored GET response without validators, whose Content-Length it matches, and updates its fields",
			ex: []ex{
				miss(ok("0123456789", "Cache-Control", "max-age=2", "Template-A", "1", "Content-Length", "10")),
				{after: 5 * sec, method: http.MethodHead, origin: ok("", "Cache-Control", "max-age=1000", "Template-A", "2", "Content-Length", "10"), status: 200},
				hitAt(10*sec, "0123456789", "10").expect("Template-A", "2"),
			}},
		{name: "RFC 9111 §4.3.5: a HEAD response whose Content-Length differs from the stored one does not freshen it",
			ex: []ex{
				miss(ok("0123456789", "Cache-Control", "max-age=2", "Content-Length", "10")),
				{after: 5 * sec, method: http.MethodHead, origin: ok("", "Cache-Control", "max-age=1000", "Content-Length", "11"), status: 200},
				missAt(1*sec, ok("new", "Cache-Control", "max-age=1000")),
			}},
	})
}

func TestAuditVaryStar(t *testing.T) {
	t.Parallel()
	var cases []conformanceCase
	for _, lines := range [][]string{{"*, *"}, {"*", "*"}, {", *"}, {"", "*"}, {"*, Foo"}, {"Foo, *"}} {
		fields := []string{"Cache-Control", "max-age=5000"}
		for _, l := range lines {
			fields = append(fields, "Vary", l)
		}
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §4.1: a Vary of %q (list members over the lines) contains *, so it never matches", lines),
			ex: []ex{
				miss(ok("a", fields...)).with("Foo", "1", "Baz", "789"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=5000")).with("Foo", "1", "Baz", "789"),
			},
		})
	}
	runCases(t, cases)
}
