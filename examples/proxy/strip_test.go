package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/hitbox-go/hitbox/httpcache"
)

// TestStripFields: the named fields go, whichever way the request is
// walked (fewer fields than names, or more), and no other field does.
func TestStripFields(t *testing.T) {
	names := httpcache.DefaultBypassFields()
	var got http.Header
	h := stripFields(names, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	for _, tc := range []struct {
		name   string
		fields []string
		want   []string // the field names left
	}{
		{"one of a few", []string{"X-Original-Url", "Accept"}, []string{"Accept"}},
		{"none", []string{"Accept", "User-Agent"}, []string{"Accept", "User-Agent"}},
		{"every one and more", append(slices.Clone(names), "Accept", "Cookie"), []string{"Accept", "Cookie"}},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		for _, f := range tc.fields {
			req.Header.Add(f, "v")
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		var left []string
		for name := range got {
			left = append(left, name)
		}
		slices.Sort(left)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(left, want) {
			t.Errorf("%s: fields left %v, want %v", tc.name, left, want)
		}
	}
}
