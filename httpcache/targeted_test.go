package httpcache

import (
	"net/http"
	"testing"
)

func TestValidTargeted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		lines []string
		valid bool
	}{
		{"RFC 9213 §2.1: a Dictionary of directives", []string{"max-age=60, must-revalidate"}, true},
		{"a quoted string value", []string{`no-cache="set-cookie"`}, true},
		{"several lines form one Dictionary", []string{"max-age=60", "public"}, true},
		{"parameters are allowed (and ignored)", []string{"max-age=60;foo=bar"}, true},
		{"an inner list", []string{"x=(a b), max-age=1"}, true},
		{"a boolean and a decimal", []string{"x=?1, y=1.5"}, true},
		{"RFC 9213 §2.1: an empty field is ignored", []string{""}, false},
		{"upper-case keys are not sf-keys", []string{"Max-Age=60"}, false},
		{"a trailing comma", []string{"max-age=60,"}, false},
		{"an empty member", []string{"max-age=60,,public"}, false},
		{"a space before '='", []string{"max-age =60"}, false},
		{"an unterminated string", []string{`x="abc`}, false},
		{"an integer over 15 digits", []string{"max-age=1234567890123456"}, false},
	}
	for _, tc := range cases {
		if got := validTargeted(tc.lines); got != tc.valid {
			t.Errorf("%s: %q valid = %v, want %v", tc.name, tc.lines, got, tc.valid)
		}
	}
}

func TestPreconditions(t *testing.T) {
	t.Parallel()
	stored := http.Header{"Etag": {`W/"a"`}, "Date": {"Sat, 01 Mar 2026 12:00:00 GMT"}}
	cases := []struct {
		name string
		req  http.Header
		fail bool
	}{
		{"RFC 9110 §13.1.2: weak comparison matches W/ and strong forms", http.Header{"If-None-Match": {`"a"`}}, true},
		{"RFC 9110 §13.1.2: a list", http.Header{"If-None-Match": {`"b", W/"a"`}}, true},
		{"RFC 9110 §13.1.2: several lines", http.Header{"If-None-Match": {`"b"`, `"a"`}}, true},
		{"RFC 9110 §13.1.2: no match", http.Header{"If-None-Match": {`"b"`}}, false},
		{"RFC 9110 §8.8.3: a tag containing a comma", http.Header{"If-None-Match": {`"x,y"`}}, false},
		{"a malformed list matches nothing", http.Header{"If-None-Match": {`a`}}, false},
		{"§4.3.2: If-Modified-Since against Date when there is no Last-Modified", http.Header{"If-Modified-Since": {"Sat, 01 Mar 2026 12:00:00 GMT"}}, true},
		{"§4.3.2: ... earlier than Date", http.Header{"If-Modified-Since": {"Sat, 01 Mar 2026 11:00:00 GMT"}}, false},
	}
	for _, tc := range cases {
		if got := preconditionsFail(tc.req, stored, &storedResponse{}); got != tc.fail {
			t.Errorf("%s: 304 = %v, want %v", tc.name, got, tc.fail)
		}
	}
}

// FuzzRequestFields feeds arbitrary field values to the parsers of this
// file's owner (targeted fields, If-None-Match, Pragma): none may panic.
func FuzzRequestFields(f *testing.F) {
	for _, s := range []string{"max-age=60", `x="a\"b"`, `W/"a", "b"`, "*", "no-cache", "x=(a b);q=1", ":YWJj:", "?1", "-1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		validTargeted([]string{s})
		matchAnyWeak(s, []string{`"a"`, s})
		pragmaNoCache([]string{s})
		preconditionsFail(http.Header{"If-None-Match": {s}}, http.Header{"Etag": {s}}, &storedResponse{})
		preconditionsFail(http.Header{"If-Modified-Since": {s}}, http.Header{"Last-Modified": {s}}, &storedResponse{})
	})
}
