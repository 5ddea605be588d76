package httpcache

import (
	"net/http"
	"net/http/httptest"
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
