package httpcache

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseVary(t *testing.T) {
	tests := []struct {
		why   string
		lines []string
		names []string
		star  bool
	}{
		{"§12.5.5: no Vary", nil, nil, false},
		{"§12.5.5: names are lower-cased and sorted", []string{"Foo, Accept-Encoding"}, []string{"accept-encoding", "foo"}, false},
		{"§4.1: repeated Vary lines form one list", []string{"Foo", "Bar"}, []string{"bar", "foo"}, false},
		{"§4.1: duplicates are one name", []string{"foo, FOO", "Foo"}, []string{"foo"}, false},
		{"§12.5.5: whitespace and empty members are not names", []string{" ,foo ,, bar\t"}, []string{"bar", "foo"}, false},
		{"§4.1: a * member never matches", []string{"*"}, nil, true},
		{"§4.1: * among names", []string{"Foo, *"}, []string{"foo"}, true},
		{"§4.1: * on its own line after an empty one", []string{"", "*"}, nil, true},
		{"§4.1: * twice", []string{"*, *"}, nil, true},
		{"§12.5.5: a member that is no field name is dropped", []string{"foo bar, baz"}, []string{"baz"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			h := http.Header{"Vary": tt.lines}
			names, star := parseVary(h)
			if !reflect.DeepEqual(names, tt.names) || star != tt.star {
				t.Errorf("parseVary(%q) = %q, %v; want %q, %v", tt.lines, names, star, tt.names, tt.star)
			}
		})
	}
}

func TestVaryValuesMatch(t *testing.T) {
	tests := []struct {
		why   string
		name  string
		a, b  []string // the request lines of the named field; nil means absent
		match bool
	}{
		{"§4.1: equal values match", "foo", []string{"1"}, []string{"1"}, true},
		{"§4.1: different values do not", "foo", []string{"1"}, []string{"2"}, false},
		{"§4.1: an absent field only matches absence", "foo", []string{"1"}, nil, false},
		{"§4.1: absent and absent match", "foo", nil, nil, true},
		{"§4.1: absent differs from present but empty", "foo", nil, []string{""}, false},
		{"§4.1: whitespace around list members is removed", "foo", []string{"1,2"}, []string{" 1, 2 "}, true},
		{"§4.1: lines are combined", "foo", []string{"1, 2"}, []string{"1", "2"}, true},
		{"§4.1: the order of an unknown field's members is kept", "foo", []string{"1, 2"}, []string{"2, 1"}, false},
		{"§4.1: an unknown field's case is kept", "foo", []string{"a"}, []string{"A"}, false},
		{"§4.1: a comma inside quotes does not split", "foo", []string{`"a,b"`}, []string{`"a, b"`}, false},
		{"§4.1: Accept-Language order carries no meaning", "accept-language", []string{"en, de"}, []string{"de, en"}, true},
		{"§4.1: Accept-Language is case-insensitive", "accept-language", []string{"en-US"}, []string{"en-us"}, true},
		{"§4.1: different languages differ", "accept-language", []string{"en"}, []string{"de"}, false},
		{"§4.1: Accept-Encoding: order, case and spaces", "accept-encoding", []string{"gzip, br"}, []string{"BR,gzip"}, true},
		{"§4.1: Accept-Encoding: q=1 is the default", "accept-encoding", []string{"gzip;q=1.0, br"}, []string{"br, gzip"}, true},
		{"§4.1: Accept-Encoding: a lower weight is a difference", "accept-encoding", []string{"gzip;q=0.5, br"}, []string{"br, gzip"}, false},
		{"§4.1: Accept-Encoding: whitespace around ';' and '='", "accept-encoding", []string{"gzip ; q=0.5"}, []string{"gzip;q=0.5"}, true},
		{"§4.1: Accept-Encoding: a repeated member is one", "accept-encoding", []string{"gzip, gzip"}, []string{"gzip"}, true},
		{"§4.1: Accept: media types are case-insensitive", "accept", []string{"Text/HTML, application/json"}, []string{"application/json,text/html"}, true},
		{"§4.1: Accept: a parameter value keeps its case", "accept", []string{"text/html;level=A"}, []string{"text/html;level=a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			ra, rb := http.Header{}, http.Header{}
			canon := http.CanonicalHeaderKey(tt.name)
			if tt.a != nil {
				ra[canon] = tt.a
			}
			if tt.b != nil {
				rb[canon] = tt.b
			}
			va := varyValues([]string{tt.name}, ra)
			vb := varyValues([]string{tt.name}, rb)
			if (va[0] == vb[0]) != tt.match {
				t.Errorf("varyValues: %q vs %q; want match %v", va[0], vb[0], tt.match)
			}
		})
	}
}

func TestVaryValuesShape(t *testing.T) {
	req := http.Header{"Foo": {"a\x00b"}, "Accept-Encoding": {"gzip"}}
	got := varyValues([]string{"accept-encoding", "bar", "foo"}, req)
	// One value per name, absence as "", NUL escaped so B can join with it.
	want := []string{"=gzip", "", `=a\x00b`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("varyValues = %q, want %q", got, want)
	}
}

func BenchmarkVaryValues(b *testing.B) {
	req := http.Header{"Accept-Encoding": {"gzip, deflate, br"}, "Accept-Language": {"en-US,en;q=0.9"}}
	names := []string{"accept-encoding", "accept-language"}
	b.ReportAllocs()
	for b.Loop() {
		varyValues(names, req)
	}
}
