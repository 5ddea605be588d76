package httpcache

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// appendHTTPDate appends t as an IMF-fixdate (RFC 9110 §5.6.7), as
// t.UTC().Format(http.TimeFormat) renders it, without the layout
// interpreter: the cache dates every response it stores that came
// without a Date.
func appendHTTPDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, http.TimeFormat)
	}
	hour, min, sec := t.Clock()
	wd := dayAbbrevs[t.Weekday()]
	mo := monthAbbrevs[month-1]
	return append(b, wd[0], wd[1], wd[2], ',', ' ',
		byte('0'+day/10), byte('0'+day%10), ' ',
		mo[0], mo[1], mo[2], ' ',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), ' ',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), ' ', 'G', 'M', 'T')
}

var (
	dayAbbrevs   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monthAbbrevs = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// dateCache keeps the Date field value of one second, rendered once and
// shared by every response the cache dates in that second.
type dateCache struct{ cur atomic.Pointer[dateLine] }

// dateLine is one second's Date value; immutable once stored.
type dateLine struct {
	sec int64
	buf [29]byte  // the IMF-fixdate; val[0] aliases it
	val [1]string // the field's lines
}

// line returns the Date field's lines for t: a capped slice, so a later
// Add copies it rather than writing into what other responses share.
func (d *dateCache) line(t time.Time) []string {
	sec := t.Unix()
	if l := d.cur.Load(); l != nil && l.sec == sec {
		return l.val[:1:1]
	}
	l := &dateLine{sec: sec}
	if b := appendHTTPDate(l.buf[:0], t); len(b) == len(l.buf) && &b[0] == &l.buf[0] {
		l.val[0] = unsafe.String(&l.buf[0], len(l.buf))
	} else {
		l.val[0] = string(b) // a year of five digits
	}
	d.cur.Store(l)
	return l.val[:1:1]
}

// value is line's value as one string.
func (d *dateCache) value(t time.Time) string { return d.line(t)[0] }

// parseHTTPDate parses an HTTP-date in any of the three formats a recipient
// must accept (RFC 9110 §5.6.7): IMF-fixdate, the obsolete RFC 850 form and
// asctime. As RFC 9111 §4.2 asks of a cache, names are matched
// case-insensitively and a zone other than GMT makes the date invalid.
// Surrounding whitespace is ignored; anything else out of the grammar is
// invalid. It does not allocate.
func parseHTTPDate(s string) (time.Time, bool) {
	if t, ok := parseIMFFixdate(s); ok {
		return t, true
	}
	return parseAnyHTTPDate(s)
}

// parseAnyHTTPDate is parseHTTPDate without the fast path for the common
// form.
func parseAnyHTTPDate(s string) (time.Time, bool) {
	s = trimOWS(s)
	p := dateParser{s: s}
	// The day-name ends at ',' (IMF-fixdate, RFC 850) or ' ' (asctime).
	i := strings.IndexAny(s, ", ")
	if i < 0 {
		return time.Time{}, false
	}
	name := s[:i]
	var year, month, day, hour, min, sec int
	switch {
	case s[i] == ',' && len(name) == 3 && dayName(name) >= 0:
		// IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
		p.i = i + 1
		ok := p.lit(' ') && p.digits(2, &day) && p.lit(' ') && p.month(&month) && p.lit(' ') &&
			p.digits(4, &year) && p.lit(' ') && p.clock(&hour, &min, &sec) && p.lit(' ') && p.gmt() && p.end()
		if !ok {
			return time.Time{}, false
		}
	case s[i] == ',' && len(name) > 3 && longDayName(name) >= 0:
		// RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
		p.i = i + 1
		ok := p.lit(' ') && p.digits(2, &day) && p.lit('-') && p.month(&month) && p.lit('-') &&
			p.digits(2, &year) && p.lit(' ') && p.clock(&hour, &min, &sec) && p.lit(' ') && p.gmt() && p.end()
		if !ok {
			return time.Time{}, false
		}
		year = fullYear(year)
	case s[i] == ' ' && len(name) == 3 && dayName(name) >= 0:
		// asctime: Sun Nov  6 08:49:37 1994 (UTC implied)
		p.i = i + 1
		ok := p.month(&month) && p.lit(' ')
		if ok && p.i < len(s) && s[p.i] == ' ' {
			p.i++
			ok = p.digits(1, &day)
		} else {
			ok = ok && p.digits(2, &day)
		}
		ok = ok && p.lit(' ') && p.clock(&hour, &min, &sec) && p.lit(' ') && p.digits(4, &year) && p.end()
		if !ok {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	if day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	if sec == 60 {
		// A leap second: the nearest representable time not after it
		// (RFC 9111 §4.2).
		sec = 59
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC), true
}

// parseIMFFixdate parses the one form of HTTP-date senders must generate,
// exactly 29 bytes with fields at fixed places (Sun, 06 Nov 1994 08:49:37
// GMT), as parseHTTPDate's general reading does: names in any case. It
// reports false for anything else, which parseHTTPDate then reads the
// general way.
func parseIMFFixdate(s string) (time.Time, bool) {
	if len(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
		s[19] != ':' || s[22] != ':' || s[25] != ' ' || fold3(s[26:]) != 'g'<<16|'m'<<8|'t' || !isDay3(fold3(s[:3])) {
		return time.Time{}, false
	}
	month := month3(fold3(s[8:11]))
	if month == 0 {
		return time.Time{}, false
	}
	day, ok1 := twoDigits(s[5:7])
	y1, ok2 := twoDigits(s[12:14])
	y2, ok3 := twoDigits(s[14:16])
	hour, ok4 := twoDigits(s[17:19])
	min, ok5 := twoDigits(s[20:22])
	sec, ok6 := twoDigits(s[23:25])
	year := y1*100 + y2
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	if sec == 60 {
		sec = 59 // a leap second, as parseHTTPDate reads it
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC), true
}

// fold3 packs the first three bytes of s, ASCII upper-case letters
// lower-cased and every other byte as it is, so a three-letter name
// compares case-insensitively in one go.
func fold3(s string) uint32 {
	return uint32(foldByte(s[0]))<<16 | uint32(foldByte(s[1]))<<8 | uint32(foldByte(s[2]))
}

func foldByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c | 0x20
	}
	return c
}

// isDay3 reports whether f (fold3) is a day name.
func isDay3(f uint32) bool {
	switch f {
	case 'm'<<16 | 'o'<<8 | 'n', 't'<<16 | 'u'<<8 | 'e', 'w'<<16 | 'e'<<8 | 'd', 't'<<16 | 'h'<<8 | 'u',
		'f'<<16 | 'r'<<8 | 'i', 's'<<16 | 'a'<<8 | 't', 's'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// month3 is the month f (fold3) names, 1 to 12, or 0.
func month3(f uint32) int {
	switch f {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

// twoDigits reads two decimal digits.
func twoDigits(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// fullYear maps the two-digit year of an RFC 850 date to the most recent
// year in the past with those digits when it would otherwise be more than
// 50 years in the future (RFC 9110 §5.6.7).
func fullYear(yy int) int {
	now := time.Now().UTC().Year()
	y := now - now%100 + yy
	switch {
	case y > now+50:
		y -= 100
	case y <= now-50:
		y += 100 // e.g. "05" read in 2095 is 2105, not 2005
	}
	return y
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var (
	dayNames     = [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	longDayNames = [...]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	monthNames   = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

func dayName(s string) int {
	for i, n := range dayNames {
		if eqFold(s, n) {
			return i
		}
	}
	return -1
}

func longDayName(s string) int {
	for i, n := range longDayNames {
		if eqFold(s, n) {
			return i
		}
	}
	return -1
}

// dateParser reads the fixed grammar of an HTTP-date.
type dateParser struct {
	s string
	i int
}

func (p *dateParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dateParser) digits(n int, v *int) bool {
	if p.i+n > len(p.s) {
		return false
	}
	x := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			return false
		}
		x = x*10 + int(c-'0')
	}
	p.i += n
	*v = x
	return true
}

func (p *dateParser) month(v *int) bool {
	if p.i+3 > len(p.s) {
		return false
	}
	for i, n := range monthNames {
		if eqFold(p.s[p.i:p.i+3], n) {
			p.i += 3
			*v = i + 1
			return true
		}
	}
	return false
}

func (p *dateParser) clock(h, m, s *int) bool {
	return p.digits(2, h) && p.lit(':') && p.digits(2, m) && p.lit(':') && p.digits(2, s)
}

func (p *dateParser) gmt() bool {
	if p.i+3 <= len(p.s) && eqFold(p.s[p.i:p.i+3], "gmt") {
		p.i += 3
		return true
	}
	return false
}

func (p *dateParser) end() bool { return p.i == len(p.s) }

// parseAge parses the Age field (RFC 9111 §5.1): the first member of a
// list-based value is used and the rest discarded; an invalid value
// (anything but a non-negative integer) is ignored: ok is false.
func parseAge(lines []string) (int64, bool) {
	if len(lines) == 0 {
		return 0, false
	}
	first, _, _ := strings.Cut(lines[0], ",")
	return parseDelta(trimOWS(first))
}

// parseExpires parses the Expires field (RFC 9111 §5.3). present reports
// whether the field was sent at all; valid is false for an invalid date
// (the value "0" among them), which a cache must read as already expired.
// Several lines that disagree are read as invalid too: §4.2.1 allows the
// first or stale, and stale is the conservative choice.
func parseExpires(lines []string) (t time.Time, present bool, valid bool) {
	if len(lines) == 0 {
		return time.Time{}, false, false
	}
	for _, l := range lines[1:] {
		if trimOWS(l) != trimOWS(lines[0]) {
			return time.Time{}, true, false
		}
	}
	t, ok := parseHTTPDate(lines[0])
	return t, true, ok
}
