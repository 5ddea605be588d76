package httpcache

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	const size = 10000
	tests := []struct {
		why           string
		header        string
		ranges        []byteRange
		ok, unsatisfy bool
	}{
		{"§14.1.2: the first 500 bytes", "bytes=0-499", []byteRange{{0, 500}}, true, false},
		{"§14.1.2: the second 500 bytes", "bytes=500-999", []byteRange{{500, 500}}, true, false},
		{"§14.1.2: a suffix range", "bytes=-500", []byteRange{{9500, 500}}, true, false},
		{"§14.1.2: an open range to the end", "bytes=9500-", []byteRange{{9500, 500}}, true, false},
		{"§14.1.2: first and last bytes", "bytes=0-0,-1", []byteRange{{0, 1}, {9999, 1}}, true, false},
		{"§14.1.2: whitespace around members", "bytes= 0-999, 4500-5499, -1000", []byteRange{{0, 1000}, {4500, 1000}, {9000, 1000}}, true, false},
		{"§14.1: the unit is case-insensitive", "Bytes=0-0", []byteRange{{0, 1}}, true, false},
		{"§14.1.2: last-pos past the end is the end", "bytes=9000-20000", []byteRange{{9000, 1000}}, true, false},
		{"§14.1.2: a suffix longer than the representation is all of it", "bytes=-20000", []byteRange{{0, size}}, true, false},
		{"§14.1.2: a huge last-pos does not overflow", "bytes=0-99999999999999999999999", []byteRange{{0, size}}, true, false},
		{"§14.1.2: unsatisfiable ranges are dropped from a satisfiable set", "bytes=20000-,0-0", []byteRange{{0, 1}}, true, false},
		{"§14.1.2: first-pos at the length is unsatisfiable: 416", "bytes=10000-", nil, true, true},
		{"§14.1.2: a zero suffix is unsatisfiable: 416", "bytes=-0", nil, true, true},
		{"§14.1.2: a huge first-pos is unsatisfiable", "bytes=99999999999999999999999-", nil, true, true},
		{"§14.1.1: last-pos before first-pos is invalid: ignored", "bytes=500-499", nil, false, false},
		{"§14.1.1: one invalid spec invalidates the set", "bytes=0-1,abc", nil, false, false},
		{"§14.1.1: a negative number is invalid", "bytes=--5", nil, false, false},
		{"§14.1.1: an empty set is invalid", "bytes=", nil, false, false},
		{"§14.2: an unknown unit is ignored", "items=0-5", nil, false, false},
		{"§14.2: no '=' is ignored", "bytes 0-5", nil, false, false},
		{"§14.2: overlapping ranges larger than the whole are ignored", "bytes=0-9999,0-9999", nil, false, false},
		{"§14.2: too many ranges are ignored", "bytes=" + strings.Repeat("0-0,", maxRanges) + "0-0", nil, false, false},
		{"§5.6.1: empty list elements are allowed", "bytes=,0-0,", []byteRange{{0, 1}}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			ranges, ok, unsat := parseRange(tt.header, size)
			if !reflect.DeepEqual(ranges, tt.ranges) || ok != tt.ok || unsat != tt.unsatisfy {
				t.Errorf("parseRange(%q) = %v, %v, %v; want %v, %v, %v", tt.header, ranges, ok, unsat, tt.ranges, tt.ok, tt.unsatisfy)
			}
		})
	}
	// §14.2: a server may ignore a Range on an empty representation.
	if _, ok, _ := parseRange("bytes=-5", 0); ok {
		t.Error("parseRange on an empty representation: ok, want ignored")
	}
}

func TestIfRangeAllows(t *testing.T) {
	lm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stored := http.Header{
		"Etag":          {`"v1"`},
		"Last-Modified": {ruleDate(lm)},
		"Date":          {ruleDate(lm.Add(time.Hour))},
	}
	weak := http.Header{"Etag": {`W/"v1"`}}
	sameSecond := http.Header{"Last-Modified": {ruleDate(lm)}, "Date": {ruleDate(lm)}}
	noDate := http.Header{"Last-Modified": {ruleDate(lm)}}
	tests := []struct {
		why    string
		value  string
		stored http.Header
		want   bool
	}{
		{"§13.1.5: a strong ETag that matches", `"v1"`, stored, true},
		{"§13.1.5: a strong ETag that does not", `"v2"`, stored, false},
		{"§13.1.5: a weak ETag never matches strongly", `W/"v1"`, stored, false},
		{"§8.8.3.2: a weak stored ETag never matches strongly", `"v1"`, weak, false},
		{"§13.1.5: a date equal to a strong Last-Modified", ruleDate(lm), stored, true},
		{"§13.1.5: a later date is no exact match", ruleDate(lm.Add(time.Second)), stored, false},
		{"§8.8.2.2: a Last-Modified equal to Date is weak", ruleDate(lm), sameSecond, false},
		{"§8.8.2.2: without a Date the Last-Modified is weak", ruleDate(lm), noDate, false},
		{"§13.1.5: garbage is false", "yesterday", stored, false},
		{"§13.1.5: empty is false", "", stored, false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := ifRangeAllows(tt.value, tt.stored); got != tt.want {
				t.Errorf("ifRangeAllows(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestServeRanges(t *testing.T) {
	body := []byte("0123456789")
	stored := func() http.Header {
		return http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"10"}, "Etag": {`"x"`}}
	}

	t.Run("§14.4: a single range has Content-Range and its own length", func(t *testing.T) {
		w := httptest.NewRecorder()
		serveRanges(w, http.StatusPartialContent, stored(), body, []byteRange{{2, 3}})
		res := w.Result()
		if res.StatusCode != 206 || w.Body.String() != "234" ||
			res.Header.Get("Content-Range") != "bytes 2-4/10" || res.Header.Get("Content-Length") != "3" ||
			res.Header.Get("Content-Type") != "text/plain" || res.Header.Get("Etag") != `"x"` {
			t.Errorf("got %d %q %v", res.StatusCode, w.Body, res.Header)
		}
	})

	t.Run("§14.6: several ranges are multipart/byteranges", func(t *testing.T) {
		w := httptest.NewRecorder()
		serveRanges(w, http.StatusPartialContent, stored(), body, []byteRange{{0, 1}, {8, 2}})
		res := w.Result()
		mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
		if res.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("got %d %q %v", res.StatusCode, res.Header.Get("Content-Type"), err)
		}
		if res.Header.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Errorf("Content-Length %s, body %d bytes", res.Header.Get("Content-Length"), w.Body.Len())
		}
		mr := multipart.NewReader(w.Body, params["boundary"])
		var got []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			got = append(got, p.Header.Get("Content-Type")+"|"+p.Header.Get("Content-Range")+"|"+string(b))
		}
		want := []string{"text/plain|bytes 0-0/10|0", "text/plain|bytes 8-9/10|89"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parts %q, want %q", got, want)
		}
	})

	t.Run("§14.4: a 416 names the complete length", func(t *testing.T) {
		w := httptest.NewRecorder()
		serveRanges(w, http.StatusRequestedRangeNotSatisfiable, stored(), body, nil)
		res := w.Result()
		if res.StatusCode != 416 || res.Header.Get("Content-Range") != "bytes */10" || w.Body.Len() != 0 {
			t.Errorf("got %d %v %q", res.StatusCode, res.Header, w.Body)
		}
	})

	t.Run("a range beyond the body is refused, not a panic", func(t *testing.T) {
		w := httptest.NewRecorder()
		serveRanges(w, http.StatusPartialContent, stored(), body, []byteRange{{5, 100}})
		if w.Code != 416 {
			t.Errorf("got %d, want 416", w.Code)
		}
	})
}
