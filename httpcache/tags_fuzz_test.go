package httpcache

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// FuzzSurrogateKeys: any tag field lines parse without a panic into tags
// every Tagger accepts: non-empty, without separators, unique, within
// hitbox.MaxTags and hitbox.MaxTagLen; and the tags, written back as one
// line, parse to themselves.
func FuzzSurrogateKeys(f *testing.F) {
	for _, s := range []string{"a b c", " a, b ,c ", "a\tb", ",,", "b a b", "product-7 user:42 page/home", strings.Repeat("x ", 70)} {
		f.Add(s, "")
	}
	f.Add("a", "a b")
	f.Fuzz(func(t *testing.T, a, b string) {
		tags, over := parseTagLines([]string{a, b})
		if err := hitbox.CheckTags(tags); len(tags) > 0 && err != nil {
			t.Fatalf("%q: %v", tags, err)
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			if strings.ContainsAny(tag, " \t,") || seen[tag] || !strings.Contains(a+"\n"+b, tag) {
				t.Fatalf("tag %q: a separator, a duplicate, or not in the input", tag)
			}
			seen[tag] = true
		}
		again, over2 := parseTagLines([]string{strings.Join(tags, " ")})
		if !slices.Equal(again, tags) || over2 {
			t.Fatalf("%q reparsed to %q (over %v)", tags, again, over2)
		}
		if !over && len(strings.Fields(strings.NewReplacer(",", " ").Replace(a+" "+b))) > 0 && len(tags) == 0 {
			t.Fatalf("%q %q: members but no tags and no overflow", a, b)
		}
	})
}

// FuzzPurgeRequest: any purge parameters parse without a panic into an
// error or exactly one purge, by URL (a key of this package) or by tags
// InvalidateTags accepts.
func FuzzPurgeRequest(f *testing.F) {
	for _, s := range []string{
		"url=http%3A%2F%2Fexample.com%2Fa", "url=HTTP://Example.COM:80/a%3Fb#c", "url=/a&tag=b", "tag=a&tag=b+c,d",
		"url=", "tag=", "x=1", "url=http://[::1]:80/", "url=//host/path", "url=http:opaque", "url=https://u@h/",
	} {
		f.Add(s, false)
	}
	f.Add("url=/a?b=c", true)
	f.Fuzz(func(t *testing.T, query string, ignoreHost bool) {
		form, err := url.ParseQuery(query)
		if err != nil {
			return // the handler answers 400 before parsing
		}
		c := New(failing{}, Options{IgnoreHost: ignoreHost, KeyQuery: nil})
		req, err := c.parsePurge(form)
		if err != nil {
			if req.url != nil || req.tags != nil {
				t.Fatalf("an error with a request: %+v", req)
			}
			return
		}
		switch {
		case req.url != nil && req.tags == nil:
			if !strings.HasPrefix(req.key, keyPrefix) {
				t.Fatalf("key %q outside the package's prefix", req.key)
			}
		case req.url == nil && len(req.tags) > 0:
			for _, tag := range req.tags {
				if err := hitbox.CheckTags([]string{tag}); err != nil {
					t.Fatalf("tag %q: %v", tag, err)
				}
			}
		default:
			t.Fatalf("not exactly one purge: %+v", req)
		}
	})
}
