package httpcache

import (
	"net/http"
	"time"
)

// Defaults for the heuristic (RFC 9111 §4.2.2 suggests 10%).
const (
	defaultHeuristicFraction = 0.1
	defaultMaxHeuristic      = 24 * time.Hour
)

// freshInput is what freshnessLifetime needs to know about a response.
type freshInput struct {
	status                    int
	header                    http.Header // the response's header fields
	cc                        directives  // effective response directives (targeted field already chosen)
	shared                    bool
	requestTime, responseTime time.Time
	heuristicFraction         float64       // of (Date - Last-Modified); 0.1 when zero
	maxHeuristic, defaultTTL  time.Duration // heuristic cap (24h when zero); freshness when nothing else gives one
}

// freshnessLifetime returns a response's freshness lifetime by the first
// rule of RFC 9111 §4.2.1 that applies: s-maxage (shared caches only),
// max-age, Expires minus Date, then a heuristic (§4.2.2). heuristic reports
// that the lifetime was assigned here (Last-Modified fraction or the
// configured default) rather than sent by the origin. ok is false when the
// response has no usable freshness at all: it may then only be stored to be
// revalidated, which the caller decides.
func freshnessLifetime(in freshInput) (lifetime time.Duration, heuristic bool, ok bool) {
	cc := &in.cc
	if cc.invalidFreshness {
		// §4.2.1: invalid or conflicting freshness information: stale.
		return 0, false, true
	}
	if in.shared && cc.sMaxAge >= 0 {
		return seconds(cc.sMaxAge), false, true
	}
	if cc.maxAge >= 0 {
		return seconds(cc.maxAge), false, true
	}
	if exp, present, valid := parseExpires(in.header["Expires"]); present {
		if !valid {
			// §5.3: an invalid date, "0" among them, is in the past.
			return 0, false, true
		}
		date := responseDate(in.header, in.responseTime)
		if d := exp.Sub(date); d > 0 {
			return d, false, true
		}
		return 0, false, true
	}
	// §4.2.2: heuristics only for heuristically cacheable status codes and
	// for responses marked explicitly cacheable (public; private for a
	// private cache, §5.2.2.7).
	if !heuristicallyCacheable(in.status) && !cc.public && !(cc.private && !in.shared) {
		return 0, false, false
	}
	if lm, ok := parseHTTPDate(firstLine(in.header["Last-Modified"])); ok {
		date := responseDate(in.header, in.responseTime)
		if age := date.Sub(lm); age > 0 {
			frac := in.heuristicFraction
			if frac <= 0 {
				frac = defaultHeuristicFraction
			}
			limit := in.maxHeuristic
			if limit <= 0 {
				limit = defaultMaxHeuristic
			}
			d := time.Duration(float64(age) * frac)
			if d > limit || d < 0 {
				d = limit
			}
			if d > 0 {
				return d, true, true
			}
		}
	}
	if in.defaultTTL > 0 {
		return in.defaultTTL, true, true
	}
	return 0, false, false
}

// responseDate is the Date of a response, or the time it was received when
// it has none or an invalid one (RFC 9110 §6.6.1, RFC 9111 §4.2.1).
func responseDate(h http.Header, responseTime time.Time) time.Time {
	if v := h["Date"]; len(v) > 0 {
		if t, ok := parseHTTPDate(v[0]); ok {
			return t
		}
	}
	return responseTime
}

// firstLine is a field's first line, or "" (http.Header.Get without
// canonicalising a name that is canonical already).
func firstLine(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// seconds converts delta-seconds (at most 2^31, §1.2.2) to a Duration.
func seconds(n int64) time.Duration {
	if n > maxDelta {
		n = maxDelta
	}
	return time.Duration(n) * time.Second
}

// correctedInitialAge computes RFC 9111 §4.2.3's corrected_initial_age: the
// larger of the apparent age (response_time - Date, at least 0) and the
// received Age plus the response delay (response_time - request_time). An
// invalid Age counts as absent (§5.1).
func correctedInitialAge(header http.Header, requestTime, responseTime time.Time) time.Duration {
	var apparent time.Duration
	if v := header["Date"]; len(v) > 0 {
		if date, ok := parseHTTPDate(v[0]); ok {
			apparent = max(0, responseTime.Sub(date))
		}
	}
	ageValue, _ := parseAge(header["Age"])
	delay := max(0, responseTime.Sub(requestTime))
	corrected := seconds(ageValue) + delay
	return max(apparent, corrected)
}

// currentAge is RFC 9111 §4.2.3's current_age: corrected_initial_age plus
// the time resident here since the response was received (never negative,
// so a clock stepping back cannot make a response younger than received).
func currentAge(initial time.Duration, responseTime, now time.Time) time.Duration {
	return initial + max(0, now.Sub(responseTime))
}

// heuristicallyCacheable reports whether responses with status may be given
// heuristic freshness (RFC 9110 §15.1).
func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understoodStatus reports whether this cache understands and implements the
// caching requirements of status, which lets a response with
// must-understand be stored despite its no-store (RFC 9111 §5.2.2.3). The
// set is the heuristically cacheable codes plus the redirects whose caching
// rules are the general ones; 206 is left out, so a part that carries
// must-understand and no-store is not stored.
func understoodStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}
