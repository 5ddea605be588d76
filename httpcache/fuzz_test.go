package httpcache

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// FuzzParseDirectives: any Cache-Control lines parse without a panic, into
// values the rest of the package can rely on.
func FuzzParseDirectives(f *testing.F) {
	for _, s := range []string{
		"max-age=60", `no-cache="a, b", private`, `extension="max-age=3600", max-age=1`,
		"max-age=1800, max-age=1", `x="\`, "max-stale, min-fresh=5", "s-maxage=99999999999999999999",
		"stale-while-revalidate=30, stale-if-error=60, must-understand, no-store",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		d := parseDirectives([]string{a, b})
		_ = parseTargetedDirectives([]string{a, b}) // RFC 9213's reading of the same bytes: no panic
		for _, v := range []int64{d.maxAge, d.sMaxAge, d.maxStale, d.minFresh, d.staleWhileRevalidate, d.staleIfError} {
			if v < -1 || v > maxDelta {
				t.Fatalf("value %d out of range in %+v", v, d)
			}
		}
		if d.invalidFreshness && d.maxAge != 0 && d.sMaxAge != 0 {
			t.Fatalf("invalid freshness but neither max-age nor s-maxage is 0: %+v", d)
		}
		for _, f := range append(d.noCacheFields, d.privateFields...) {
			if !isToken(f) || lowerASCII(f) != f {
				t.Fatalf("field name %q is no lower-case token", f)
			}
		}
		// One line or two lines joined by a comma say the same.
		if !strings.Contains(a, `"`) && !strings.Contains(b, `"`) {
			joined := parseDirectives([]string{a + "," + b})
			if joined.maxAge != d.maxAge || joined.noStore != d.noStore || joined.invalidFreshness != d.invalidFreshness {
				t.Fatalf("%q,%q: lines %+v, joined %+v", a, b, d, joined)
			}
		}
	})
}

// FuzzStored: unmarshal never panics, errors are ErrCorrupt, and whatever
// decodes re-encodes to the same bytes; a marshalled response round-trips.
func FuzzStored(f *testing.F) {
	f.Add(sampleStored(16).marshal(nil), "Foo", "bar", []byte("body"), 200)
	f.Add(varyIndex{names: []string{"accept"}}.marshal(nil), "", "", []byte(nil), 204)
	f.Add([]byte("hbH\x01R\x00\x00\x00\x00\x00"), "a", "", []byte{}, 999)
	f.Fuzz(func(t *testing.T, raw []byte, name, value string, body []byte, status int) {
		checkDecodeRecord(t, raw)
		// The checksum stops almost every mutation at the door: check the
		// same bytes resealed too, so the fuzzer reaches the structure.
		if len(raw) >= 4 {
			checkDecodeRecord(t, resealRecord(raw))
		}

		if status < 100 || status > 999 {
			status = 200
		}
		s := &storedResponse{
			status:       status,
			fields:       []field{{name, value}, {"Date", value}},
			body:         body,
			requestTime:  time.Unix(int64(len(raw))*1e6, int64(len(body))).UTC(),
			responseTime: time.Unix(-int64(len(name)), 0).UTC(),
			varyNames:    []string{name},
			varyValues:   []string{value},
			variantOf:    value,
		}
		got, err := unmarshalStored(s.marshal(raw[:len(raw):len(raw)])[len(raw):])
		if err != nil {
			t.Fatal(err)
		}
		if !equalStored(got, s) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, s)
		}
	})
}

// FuzzParseRange: any Range value parses without a panic into ranges that
// lie inside the representation, and serving them never panics.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-499", "bytes=-500", "bytes=9500-", "bytes=0-0,-1", "bytes=500-499",
		"bytes= 0-999, 4500-5499, -1000", "items=1-2", "bytes=99999999999999999999999-"} {
		f.Add(s, int64(10000))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		size %= 1 << 20
		if size < 0 {
			size = -size
		}
		ranges, ok, unsat := parseRange(header, size)
		if !ok && (unsat || ranges != nil) {
			t.Fatalf("ignored but %v, %v", ranges, unsat)
		}
		if unsat && len(ranges) != 0 {
			t.Fatalf("unsatisfiable with ranges %v", ranges)
		}
		if ok && !unsat && len(ranges) == 0 {
			t.Fatal("satisfiable without ranges")
		}
		var sum int64
		for _, r := range ranges {
			if r.start < 0 || r.length <= 0 || r.start+r.length > size {
				t.Fatalf("range %+v outside %d bytes", r, size)
			}
			sum += r.length
		}
		if len(ranges) > 1 && sum > size {
			t.Fatalf("ranges %v ask for more than %d bytes", ranges, size)
		}
		if ok && size <= 4096 {
			w := &rangeSink{h: http.Header{}}
			status := http.StatusPartialContent
			if unsat {
				status = http.StatusRequestedRangeNotSatisfiable
			}
			serveRanges(w, status, http.Header{"Content-Type": {"text/plain"}}, make([]byte, size), ranges)
		}
	})
}

func checkDecodeRecord(t *testing.T, raw []byte) {
	resp, idx, err := decodeRecord(raw)
	switch {
	case err != nil:
		if !errors.Is(err, hitbox.ErrCorrupt) || resp != nil || idx != nil {
			t.Fatalf("decodeRecord error %v with %v, %v", err, resp, idx)
		}
	case resp != nil:
		again, err := unmarshalStored(resp.marshal(nil))
		if err != nil || !equalStored(again, resp) {
			t.Fatalf("decoded response does not round-trip: %v", err)
		}
	case idx != nil:
		_, again, err := decodeRecord(idx.marshal(nil))
		if err != nil || !slices.Equal(again.names, idx.names) {
			t.Fatalf("decoded vary index does not round-trip: %v", err)
		}
	default:
		t.Fatal("decodeRecord returned nothing")
	}
}

type rangeSink struct {
	h    http.Header
	code int
}

func (w *rangeSink) Header() http.Header         { return w.h }
func (w *rangeSink) Write(b []byte) (int, error) { return len(b), nil }
func (w *rangeSink) WriteHeader(code int)        { w.code = code }

// FuzzVary: any Vary and request values parse without a panic; names are
// sorted, lower-case and unique; one value per name; equal requests give
// equal values and a request with the field differs from one without.
func FuzzVary(f *testing.F) {
	f.Add("Accept-Encoding, Foo", "gzip, br", "1, 2")
	f.Add("*", "", "")
	f.Add(" ,foo,,FOO", `"a,b"`, "x\x00y")
	f.Fuzz(func(t *testing.T, vary, v1, v2 string) {
		names, _ := parseVary(http.Header{"Vary": {vary}})
		for i, n := range names {
			if !isToken(n) || lowerASCII(n) != n || i > 0 && names[i-1] >= n {
				t.Fatalf("names %q not sorted unique lower-case tokens", names)
			}
		}
		req := http.Header{}
		for i, n := range names {
			req[canonicalName(n)] = []string{v1, v2}[i%2 : i%2+1]
		}
		got := varyValues(names, req)
		if len(got) != len(names) {
			t.Fatalf("%d values for %d names", len(got), len(names))
		}
		for i, v := range got {
			if !strings.HasPrefix(v, "=") || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("value %d = %q: want '=' prefix and no NUL", i, v)
			}
		}
		again := varyValues(names, req.Clone())
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("same request, different values: %q vs %q", got[i], again[i])
			}
		}
		empty := varyValues(names, http.Header{})
		for i := range empty {
			if empty[i] != "" {
				t.Fatalf("absent field gave %q", empty[i])
			}
		}
	})
}

// FuzzParseHTTPDate: the fast path for IMF-fixdates reads every input as
// the general reading does.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "Sat, 31 Dec 2016 23:59:60 gmt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotOK := parseHTTPDate(s)
		want, wantOK := parseAnyHTTPDate(s)
		if gotOK != wantOK || !got.Equal(want) {
			t.Fatalf("parseHTTPDate(%q) = %v, %v; the general reading gives %v, %v", s, got, gotOK, want, wantOK)
		}
	})
}
