package httpcache

import (
	"net/http"
	"testing"
	"time"
)

// ruleNow is the response time of the responses in these tests.
var ruleNow = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

func ruleDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func TestFreshnessLifetime(t *testing.T) {
	tests := []struct {
		why       string
		status    int
		fields    []string // name, value pairs
		private   bool     // a private cache
		defTTL    time.Duration
		lifetime  time.Duration
		heuristic bool
		ok        bool
	}{
		{"§4.2.1: s-maxage first, for a shared cache", 200,
			[]string{"Cache-Control", "max-age=10, s-maxage=20"}, false, 0, 20 * time.Second, false, true},
		{"§4.2.1: a private cache ignores s-maxage", 200,
			[]string{"Cache-Control", "max-age=10, s-maxage=20"}, true, 0, 10 * time.Second, false, true},
		{"§4.2.1: max-age before Expires", 200,
			[]string{"Cache-Control", "max-age=10", "Date", ruleDate(ruleNow), "Expires", ruleDate(ruleNow.Add(time.Hour))}, false, 0, 10 * time.Second, false, true},
		{"§5.3: s-maxage makes a shared cache ignore an invalid Expires", 200,
			[]string{"Cache-Control", "s-maxage=10", "Expires", "0"}, false, 0, 10 * time.Second, false, true},
		{"§4.2.1: Expires minus Date", 200,
			[]string{"Date", ruleDate(ruleNow.Add(-time.Hour)), "Expires", ruleDate(ruleNow)}, false, 0, time.Hour, false, true},
		{"§4.2.1: Expires minus the response time when Date is absent", 200,
			[]string{"Expires", ruleDate(ruleNow.Add(30 * time.Second))}, false, 0, 30 * time.Second, false, true},
		{"§4.2.1: Expires minus the response time when Date is invalid", 200,
			[]string{"Date", "yesterday", "Expires", ruleDate(ruleNow.Add(30 * time.Second))}, false, 0, 30 * time.Second, false, true},
		{"§5.3: Expires: 0 means already expired", 200,
			[]string{"Expires", "0", "Last-Modified", ruleDate(ruleNow.Add(-24 * time.Hour))}, false, 0, 0, false, true},
		{"§5.3: Expires before Date means already expired", 200,
			[]string{"Date", ruleDate(ruleNow), "Expires", ruleDate(ruleNow.Add(-time.Hour))}, false, 0, 0, false, true},
		{"§4.2.1: invalid max-age means stale, not heuristic", 200,
			[]string{"Cache-Control", "max-age=ten", "Last-Modified", ruleDate(ruleNow.Add(-24 * time.Hour))}, false, 0, 0, false, true},
		{"§4.2.1: conflicting max-age values mean stale", 200,
			[]string{"Cache-Control", "max-age=1800, max-age=1"}, false, 0, 0, false, true},
		{"§4.2.2: a tenth of the time since Last-Modified", 200,
			[]string{"Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(-10 * time.Hour))}, false, 0, time.Hour, true, true},
		{"§4.2.2: the heuristic is capped", 200,
			[]string{"Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(-100 * 24 * time.Hour))}, false, 0, 24 * time.Hour, true, true},
		{"§4.2.2: a Last-Modified after Date gives no heuristic", 200,
			[]string{"Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(time.Hour))}, false, 0, 0, false, false},
		{"§4.2.2: the configured default when there is no Last-Modified", 404,
			nil, false, time.Minute, time.Minute, true, true},
		{"§4.2.2: a Last-Modified heuristic wins over the default", 200,
			[]string{"Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(-10 * time.Hour))}, false, time.Minute, time.Hour, true, true},
		{"§4.2.2: no heuristic for a status not heuristically cacheable", 302,
			[]string{"Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(-10 * time.Hour))}, false, time.Minute, 0, false, false},
		{"§4.2.2: no default for a 500 either", 500, nil, false, time.Minute, 0, false, false},
		{"§5.2.2.9: public makes any status heuristically cacheable", 500,
			[]string{"Cache-Control", "public", "Date", ruleDate(ruleNow), "Last-Modified", ruleDate(ruleNow.Add(-10 * time.Hour))}, false, 0, time.Hour, true, true},
		{"§5.2.2.7: private makes it so for a private cache", 302,
			[]string{"Cache-Control", "private"}, true, time.Minute, time.Minute, true, true},
		{"§5.2.2.7: but not for a shared one", 302,
			[]string{"Cache-Control", "private"}, false, time.Minute, 0, false, false},
		{"§4.2.2: no explicit or heuristic freshness", 200, nil, false, 0, 0, false, false},
		{"§1.2.2: max-age of 2^31 does not overflow", 200,
			[]string{"Cache-Control", "max-age=999999999999"}, false, 0, (1 << 31) * time.Second, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i < len(tt.fields); i += 2 {
				h.Add(tt.fields[i], tt.fields[i+1])
			}
			in := freshInput{
				status:       tt.status,
				header:       h,
				cc:           parseDirectives(h.Values("Cache-Control")),
				shared:       !tt.private,
				requestTime:  ruleNow.Add(-time.Second),
				responseTime: ruleNow,
				defaultTTL:   tt.defTTL,
			}
			lifetime, heuristic, ok := freshnessLifetime(in)
			if lifetime != tt.lifetime || heuristic != tt.heuristic || ok != tt.ok {
				t.Errorf("freshnessLifetime = %v, %v, %v; want %v, %v, %v", lifetime, heuristic, ok, tt.lifetime, tt.heuristic, tt.ok)
			}
		})
	}
}

func TestHeuristicOptions(t *testing.T) {
	h := http.Header{"Date": {ruleDate(ruleNow)}, "Last-Modified": {ruleDate(ruleNow.Add(-10 * time.Hour))}}
	in := freshInput{status: 200, header: h, cc: parseDirectives(nil), shared: true, responseTime: ruleNow,
		heuristicFraction: 0.5, maxHeuristic: 2 * time.Hour}
	// §4.2.2: the fraction and cap are the cache's choice.
	if d, heur, ok := freshnessLifetime(in); d != 2*time.Hour || !heur || !ok {
		t.Errorf("fraction 0.5 capped at 2h: got %v, %v, %v", d, heur, ok)
	}
	in.maxHeuristic = 10 * time.Hour
	if d, _, _ := freshnessLifetime(in); d != 5*time.Hour {
		t.Errorf("fraction 0.5 of 10h: got %v, want 5h", d)
	}
}

func TestCorrectedInitialAge(t *testing.T) {
	req, resp := ruleNow.Add(-2*time.Second), ruleNow
	tests := []struct {
		why    string
		fields []string
		want   time.Duration
	}{
		{"§4.2.3: no Age and no Date: the response delay", nil, 2 * time.Second},
		{"§4.2.3: Age counts response delay", []string{"Age", "10"}, 12 * time.Second},
		{"§4.2.3: the apparent age when it is larger", []string{"Age", "10", "Date", ruleDate(ruleNow.Add(-time.Minute))}, time.Minute},
		{"§4.2.3: the corrected Age when it is larger", []string{"Age", "100", "Date", ruleDate(ruleNow.Add(-time.Minute))}, 102 * time.Second},
		{"§4.2.3: a Date in the future gives apparent age 0", []string{"Date", ruleDate(ruleNow.Add(time.Hour))}, 2 * time.Second},
		{"§5.1: an invalid Age is ignored", []string{"Age", "-5"}, 2 * time.Second},
		{"§5.1: the first member of a list Age", []string{"Age", "30, 1"}, 32 * time.Second},
		{"§1.2.2: a huge Age is 2^31 seconds, not an overflow", []string{"Age", "999999999999999999999"}, (1<<31)*time.Second + 2*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i < len(tt.fields); i += 2 {
				h.Add(tt.fields[i], tt.fields[i+1])
			}
			if got := correctedInitialAge(h, req, resp); got != tt.want {
				t.Errorf("correctedInitialAge = %v, want %v", got, tt.want)
			}
		})
	}
	// §4.2.3: a response time before the request time (a clock step) is
	// no negative delay.
	if got := correctedInitialAge(http.Header{}, ruleNow, ruleNow.Add(-time.Second)); got != 0 {
		t.Errorf("clock stepped back: got %v, want 0", got)
	}
}

func TestCurrentAge(t *testing.T) {
	// §4.2.3: current_age = corrected_initial_age + resident_time.
	if got := currentAge(5*time.Second, ruleNow, ruleNow.Add(time.Minute)); got != 65*time.Second {
		t.Errorf("currentAge = %v, want 65s", got)
	}
	// A clock that went back does not make the response younger.
	if got := currentAge(5*time.Second, ruleNow, ruleNow.Add(-time.Minute)); got != 5*time.Second {
		t.Errorf("currentAge with the clock back = %v, want 5s", got)
	}
}

func TestStatusClasses(t *testing.T) {
	// RFC 9110 §15.1 lists the heuristically cacheable codes.
	for _, code := range []int{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501} {
		if !heuristicallyCacheable(code) {
			t.Errorf("heuristicallyCacheable(%d) = false", code)
		}
	}
	for _, code := range []int{100, 201, 302, 303, 304, 307, 400, 403, 500, 502, 503, 555} {
		if heuristicallyCacheable(code) {
			t.Errorf("heuristicallyCacheable(%d) = true", code)
		}
	}
	// §5.2.2.3: an unknown status is not understood; nor is 206, never
	// stored as such.
	for code, want := range map[int]bool{200: true, 301: true, 404: true, 206: false, 555: false, 299: false, 100: false} {
		if understoodStatus(code) != want {
			t.Errorf("understoodStatus(%d) = %v", code, !want)
		}
	}
}
