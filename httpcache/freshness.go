package httpcache

import (
	"net/http"
	"time"
)

// freshInput is what freshnessLifetime needs to know about a response.
type freshInput struct {
	status                    int
	header                    http.Header
	cc                        directives
	shared                    bool
	requestTime, responseTime time.Time
	heuristicFraction         float64
	maxHeuristic, defaultTTL  time.Duration
}

// freshnessLifetime returns a response's freshness lifetime (RFC 9111 §4.2.1).
func freshnessLifetime(in freshInput) (lifetime time.Duration, heuristic bool, ok bool) {
	return 0, false, false
}

// correctedInitialAge is RFC 9111 §4.2.3's corrected_initial_age.
func correctedInitialAge(header http.Header, requestTime, responseTime time.Time) time.Duration {
	return 0
}

// currentAge is RFC 9111 §4.2.3's current_age.
func currentAge(initial time.Duration, responseTime, now time.Time) time.Duration {
	return initial + now.Sub(responseTime)
}

// heuristicallyCacheable reports whether status is heuristically cacheable (RFC 9110 §15.1).
func heuristicallyCacheable(status int) bool { return false }

// understoodStatus reports whether this cache understands status (RFC 9111 §5.2.2.3).
func understoodStatus(status int) bool { return false }
