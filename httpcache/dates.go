package httpcache

import (
	"strings"
	"time"
)

// parseHTTPDate parses an HTTP-date in any of the three formats a recipient
// must accept (RFC 9110 §5.6.7): IMF-fixdate, the obsolete RFC 850 form and
// asctime. As RFC 9111 §4.2 asks of a cache, names are matched
// case-insensitively and a zone other than GMT makes the date invalid.
// Surrounding whitespace is ignored; anything else out of the grammar is
// invalid. It does not allocate.
func parseHTTPDate(s string) (time.Time, bool) {
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
