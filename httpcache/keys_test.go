package httpcache

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/internal/panics"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts Options
		a, b string
		same bool
	}{
		{"§4.1: the key is the target URI", Options{}, "http://example.com/a?x=1", "http://example.com/a?x=1", true},
		{"§4.1: another path is another key", Options{}, "http://example.com/a", "http://example.com/b", false},
		{"§4.1: another query is another key", Options{}, "http://example.com/a?x=1", "http://example.com/a?x=2", false},
		{"RFC 3986 §3.2.2: the host is case-insensitive", Options{}, "http://EXAMPLE.com/a", "http://example.com/a", true},
		{"RFC 9110 §4.2.3: the default port is the same origin", Options{}, "http://example.com:80/a", "http://example.com/a", true},
		{"another host is another key", Options{}, "http://a.example/a", "http://b.example/a", false},
		{"Options.IgnoreHost leaves the host out", Options{IgnoreHost: true}, "http://a.example/a", "http://b.example/a", true},
		{"Options.IgnoreQuery leaves the query out", Options{IgnoreQuery: true}, "http://example.com/a?x=1", "http://example.com/a?x=2", true},
		{"Options.KeyQuery keeps only the named parameters", Options{KeyQuery: []string{"id"}}, "http://example.com/a?id=1&utm=x", "http://example.com/a?utm=y&id=1", true},
		{"Options.KeyQuery still tells the named ones apart", Options{KeyQuery: []string{"id"}}, "http://example.com/a?id=1", "http://example.com/a?id=2", false},
		{"RFC 3986 §6.2.3: an empty query is not no query", Options{}, "http://example.com/x?", "http://example.com/x", false},
		{"an empty query is itself", Options{}, "http://example.com/x?", "http://example.com/x?", true},
		{"dot segments reach the origin as sent: not merged", Options{}, "http://example.com/a/../b", "http://example.com/b", false},
		{"an encoded slash is not a slash", Options{}, "http://example.com/a%2Fb", "http://example.com/a/b", false},
		{"an encoded dot is not a dot", Options{}, "http://example.com/a/%2e%2e/b", "http://example.com/a/../b", false},
		{"absolute-form and origin-form with its Host are one URI", Options{}, "http://example.com/a", "/a", true},
		{"a port that is not the default is another origin", Options{}, "http://example.com:8080/a", "http://example.com/a", false},
		{"a long URL is still told apart at its end", Options{}, "http://example.com/" + strings.Repeat("a", 600) + "1", "http://example.com/" + strings.Repeat("a", 600) + "2", false},
		{"a long URL is still itself", Options{}, "http://example.com/" + strings.Repeat("a", 600), "http://example.com/" + strings.Repeat("a", 600), true},
		{"Options.Key replaces the default", Options{Key: func(r *http.Request) string { return r.URL.Path }}, "http://a.example/a?x", "http://b.example/a?y", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New(mapstore.New(mapstore.Options{}), tc.opts)
			ka := c.primaryKey(httptest.NewRequest("GET", tc.a, nil))
			kb := c.primaryKey(httptest.NewRequest("HEAD", tc.b, nil))
			if (ka == kb) != tc.same {
				t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, ka == kb, tc.same)
			}
		})
	}
}

func TestKeyRendersAsHitboxKey(t *testing.T) {
	t.Parallel()
	c := New(mapstore.New(mapstore.Options{}), Options{})
	got := c.primaryKey(httptest.NewRequest("GET", "http://example.com/a%3Ab?q=x:y=z", nil))
	want := hitbox.NewKey("http").With("u", "http://example.com/a%3Ab?q=x:y=z").String()
	if got != want {
		t.Errorf("key %q, want %q: HTTP keys live under the \"http\" prefix like any hitbox.Key", got, want)
	}
}

func TestVariantKeysBounded(t *testing.T) {
	t.Parallel()
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a'
	}
	k1 := variantKey("http:v0:u=x", 7, []string{"=" + string(long)})
	k2 := variantKey("http:v0:u=x", 7, []string{"=" + string(long) + "b"})
	if len(k1) > 200 || k1 == k2 {
		t.Errorf("long selectors: %d-byte keys, equal %v", len(k1), k1 == k2)
	}
	if variantKey("p", 1, []string{"a"}) == variantKey("p", 2, []string{"a"}) {
		t.Error("two epochs give one key")
	}
}

func TestOptionsPanics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func()
	}{
		{"a nil Backend", func() { New(nil, Options{}) }},
		{"a negative MaxBodySize", func() { New(mapstore.New(mapstore.Options{}), Options{MaxBodySize: -1}) }},
		{"a CacheName that is not an sf-token", func() { New(mapstore.New(mapstore.Options{}), Options{CacheName: "my cache"}) }},
		{"a nil Handler", func() { New(mapstore.New(mapstore.Options{}), Options{}).Middleware(nil) }},
	}
	for _, tc := range cases {
		if panics.Message(tc.f) == "" {
			t.Errorf("%s: no panic", tc.name)
		}
	}
}

// FuzzKeyEquality: two requests get the same key only if the origin could
// not tell them apart: the same scheme, the same host and port (case and
// default port aside) and the same request target, byte for byte.
func FuzzKeyEquality(f *testing.F) {
	for _, p := range [][4]string{
		{"example.com", "/x?", "example.com", "/x"},
		{"EXAMPLE.com:80", "/a/../b", "example.com", "/b"},
		{"example.com", "/a%2Fb", "example.com", "/a/b"},
		{"example.com", "/%2e", "example.com", "/."},
		{"example.com", "/a?b=c:d", "example.com", "/a?b=c%3Ad"},
		{"example.com", "/\u00e9", "example.com", "/%C3%A9"},
		{"example.com", "/a b", "example.com", "/a%20b"},
		{"example.com", "/" + strings.Repeat("a", 300), "example.com", "/" + strings.Repeat("a", 301)},
	} {
		f.Add(p[0], p[1], p[2], p[3])
	}
	c := New(mapstore.New(mapstore.Options{}), Options{})
	f.Fuzz(func(t *testing.T, hostA, targetA, hostB, targetB string) {
		ra, okA := fuzzRequest(hostA, targetA)
		rb, okB := fuzzRequest(hostB, targetB)
		if !okA || !okB {
			return
		}
		if c.primaryKey(ra) != c.primaryKey(rb) {
			return
		}
		if va, vb := originView(ra), originView(rb); va != vb {
			t.Fatalf("one key for requests the origin tells apart: %q and %q", va, vb)
		}
	})
}

// fuzzRequest builds the request a server would hand the handler for an
// origin-form target with a Host field, or reports that no server would.
func fuzzRequest(host, target string) (*http.Request, bool) {
	if !strings.HasPrefix(target, "/") || host == "" || strings.ContainsAny(host, "/?#@ \t\r\n") {
		return nil, false
	}
	for i := 0; i < len(target); i++ {
		if target[i] <= ' ' || target[i] == 0x7f {
			return nil, false // the request line would end there
		}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Host != "" || u.RawPath != "" && !validTarget(u) {
		// Not in URI syntax: never answered from nor stored, and keyed
		// as a client would send it (see validTarget).
		return nil, false
	}
	return &http.Request{Method: http.MethodGet, URL: u, Host: host, RequestURI: target, Header: http.Header{}}, true
}

// originView is what the origin sees of a request: scheme, host and port
// (normalised as RFC 3986 §6.2.2-3 allow for http), and the target as
// sent.
func originView(r *http.Request) string {
	return "http://" + normalHost("http", r.Host) + " " + r.RequestURI
}
