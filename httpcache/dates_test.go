package httpcache

import (
	"net/http"
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		why string
		in  string
		ok  bool
		t   time.Time
	}{
		{"RFC 9110 §5.6.7: IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true, want},
		{"RFC 9110 §5.6.7: the obsolete RFC 850 format", "Sunday, 06-Nov-94 08:49:37 GMT", true, want},
		{"RFC 9110 §5.6.7: asctime with a space-padded day", "Sun Nov  6 08:49:37 1994", true, want},
		{"RFC 9110 §5.6.7: asctime with a two-digit day", "Sun Nov 06 08:49:37 1994", true, want},
		{"§4.2: a cache matches names case-insensitively (weekday)", "SUN, 06 Nov 1994 08:49:37 GMT", true, want},
		{"§4.2: a cache matches names case-insensitively (month)", "Sun, 06 NOV 1994 08:49:37 GMT", true, want},
		{"§4.2: a cache matches names case-insensitively (zone)", "Sun, 06 Nov 1994 08:49:37 gmt", true, want},
		{"§4.2: surrounding whitespace is not part of the value", "  Sun, 06 Nov 1994 08:49:37 GMT\t", true, want},
		{"§4.2: a zone other than GMT is invalid", "Sun, 06 Nov 1994 08:49:37 UTC", false, time.Time{}},
		{"§4.2: a numeric zone is invalid", "Sun, 06 Nov 1994 08:49:37 +0000", false, time.Time{}},
		{"RFC 9110 §5.6.7: a two-digit year in IMF-fixdate is invalid", "Sun, 06 Nov 94 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: a missing comma is invalid", "Sun 06 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: extra spaces are invalid", "Sun, 06  Nov  1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: dashes in an IMF-fixdate are invalid", "Sun, 06-Nov-1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: periods in the time are invalid", "Sun, 06 Nov 1994 08.49.37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: a one-digit hour is invalid", "Sun, 06 Nov 1994 8:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: an unknown weekday is invalid", "Fun, 06 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: the 31st of November does not exist", "Thu, 31 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: hour 24 does not exist", "Sun, 06 Nov 1994 24:00:00 GMT", false, time.Time{}},
		{"RFC 9110 §5.6.7: 29 February of a leap year", "Tue, 29 Feb 2000 00:00:00 GMT", true, time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"RFC 9110 §5.6.7: no 29 February in 1900", "Thu, 29 Feb 1900 00:00:00 GMT", false, time.Time{}},
		{"§4.2: a leap second is the nearest time not after it", "Sat, 31 Dec 2016 23:59:60 GMT", true, time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"§5.3: the value 0 is not a date", "0", false, time.Time{}},
		{"§5.3: an empty value is not a date", "", false, time.Time{}},
		{"trailing garbage is invalid", "Sun, 06 Nov 1994 08:49:37 GMT x", false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got, ok := parseHTTPDate(tt.in)
			if ok != tt.ok || !got.Equal(tt.t) {
				t.Errorf("parseHTTPDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.t, tt.ok)
			}
		})
	}
}

func TestRFC850Century(t *testing.T) {
	// RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the
	// most recent past year with those digits.
	now := time.Now().UTC().Year()
	yy := (now + 51) % 100
	in := time.Date(now+51, time.January, 1, 0, 0, 0, 0, time.UTC)
	s := in.Format("Monday, 02-Jan-06 15:04:05 GMT")
	got, ok := parseHTTPDate(s)
	if !ok || got.Year() != now+51-100 {
		t.Errorf("parseHTTPDate(%q) = %v, %v; want year %d (yy %02d)", s, got, ok, now+51-100, yy)
	}
	in = time.Date(now+10, time.January, 1, 0, 0, 0, 0, time.UTC)
	s = in.Format("Monday, 02-Jan-06 15:04:05 GMT")
	if got, ok := parseHTTPDate(s); !ok || got.Year() != now+10 {
		t.Errorf("parseHTTPDate(%q) = %v, %v; want year %d", s, got, ok, now+10)
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		why   string
		lines []string
		age   int64
		ok    bool
	}{
		{"§5.1: no Age", nil, 0, false},
		{"§5.1: an integer", []string{"60"}, 60, true},
		{"§5.1: whitespace around the value is not part of it", []string{" 60 "}, 60, true},
		{"§5.1: a list-based value: the first member is used", []string{"7200, 0"}, 7200, true},
		{"§5.1: a list-based value: the first member is used even when smaller", []string{"0,7200"}, 0, true},
		{"§5.1: several lines: the first member of the first line", []string{"7200", "0"}, 7200, true},
		{"§5.1: a non-numeric value is ignored", []string{"abc"}, 0, false},
		{"§5.1: a negative value is ignored", []string{"-7200"}, 0, false},
		{"§5.1: a fraction is ignored", []string{"7200.0"}, 0, false},
		{"§1.2.2: an overflowing value is 2^31", []string{"99999999999999999999"}, 1 << 31, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			age, ok := parseAge(tt.lines)
			if age != tt.age || ok != tt.ok {
				t.Errorf("parseAge(%q) = %d, %v; want %d, %v", tt.lines, age, ok, tt.age, tt.ok)
			}
		})
	}
}

func TestParseExpires(t *testing.T) {
	date := time.Date(2050, time.August, 18, 2, 1, 18, 0, time.UTC)
	tests := []struct {
		why            string
		lines          []string
		present, valid bool
		t              time.Time
	}{
		{"§5.3: no Expires", nil, false, false, time.Time{}},
		{"§5.3: an HTTP-date", []string{"Thu, 18 Aug 2050 02:01:18 GMT"}, true, true, date},
		{"§5.3: the value 0 means already expired", []string{"0"}, true, false, time.Time{}},
		{"§5.3: an invalid date means already expired", []string{"tomorrow"}, true, false, time.Time{}},
		{"§5.3: an empty value means already expired", []string{""}, true, false, time.Time{}},
		{"§4.2.1: identical repeated lines are one value", []string{"Thu, 18 Aug 2050 02:01:18 GMT", "Thu, 18 Aug 2050 02:01:18 GMT"}, true, true, date},
		{"§4.2.1: conflicting lines: stale", []string{"Thu, 18 Aug 2050 02:01:18 GMT", "Fri, 19 Aug 2050 02:01:18 GMT"}, true, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got, present, valid := parseExpires(tt.lines)
			if present != tt.present || valid != tt.valid || !got.Equal(tt.t) {
				t.Errorf("parseExpires(%q) = %v, %v, %v; want %v, %v, %v", tt.lines, got, present, valid, tt.t, tt.present, tt.valid)
			}
		})
	}
}

func BenchmarkParseHTTPDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT")
	}
}

func TestAppendHTTPDate(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC),
		time.Date(2000, time.February, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, time.January, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC), // five digits: as time formats it
		time.Date(-1, time.January, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2030, time.June, 15, 12, 0, 0, 0, time.FixedZone("east", 5*3600)),
	}
	for sec := int64(-3e9); sec < 5e9; sec += 86399*7 + 3599 { // every weekday, month and hour
		times = append(times, time.Unix(sec, 0))
	}
	for _, tm := range times {
		want := tm.UTC().Format(http.TimeFormat)
		if got := string(appendHTTPDate(nil, tm)); got != want {
			t.Errorf("appendHTTPDate(%v) = %q, want %q", tm, got, want)
		}
	}
}

func TestDateCache(t *testing.T) {
	t.Parallel()
	var d dateCache
	t0 := time.Date(2030, time.January, 1, 10, 0, 0, 0, time.UTC)
	a := d.line(t0)
	b := d.line(t0.Add(999 * time.Millisecond))
	if a[0] != "Tue, 01 Jan 2030 10:00:00 GMT" || &a[0] != &b[0] {
		t.Fatalf("one second gave %q and %q, want one shared line", a, b)
	}
	if cap(a) != 1 {
		t.Errorf("cap %d: a later Add would write into the shared line", cap(a))
	}
	if c := d.value(t0.Add(time.Second)); c != "Tue, 01 Jan 2030 10:00:01 GMT" {
		t.Errorf("the next second gave %q", c)
	}
	if a[0] != "Tue, 01 Jan 2030 10:00:00 GMT" {
		t.Errorf("a line given out changed to %q", a[0])
	}
}

// TestParseIMFFixdateAgrees checks the fast path against the general
// reading on IMF-fixdates and near misses of every kind.
func TestParseIMFFixdateAgrees(t *testing.T) {
	t.Parallel()
	base := "Sun, 06 Nov 1994 08:49:37 GMT"
	inputs := []string{base, "Tue, 29 Feb 2000 00:00:00 GMT", "Thu, 29 Feb 1900 00:00:00 GMT",
		"Sat, 31 Dec 2016 23:59:60 GMT", "sUn, 06 nOv 1994 08:49:37 gMt", "Mon, 00 Jan 2000 00:00:00 GMT"}
	for i := range len(base) {
		for _, c := range []byte{' ', ',', ':', '0', '9', '/', 'A', 'x', 0x80} {
			b := []byte(base)
			b[i] = c
			inputs = append(inputs, string(b))
		}
	}
	for _, in := range inputs {
		got, gotOK := parseHTTPDate(in)
		want, wantOK := parseAnyHTTPDate(in)
		if gotOK != wantOK || !got.Equal(want) {
			t.Errorf("parseHTTPDate(%q) = %v, %v; the general reading gives %v, %v", in, got, gotOK, want, wantOK)
		}
	}
}
