package httpcache

import "testing"

func TestCacheStatusString(t *testing.T) {
	tests := []struct {
		why  string
		s    cacheStatus
		want string
	}{
		{"RFC 9211 §2.1: a minimal hit", cacheStatus{name: "hitbox", hit: true}, "hitbox; hit"},
		{"RFC 9211 §2: an empty name is the default", cacheStatus{hit: true}, "hitbox; hit"},
		{"RFC 9211 §2.5: a hit with its remaining freshness", cacheStatus{name: "hitbox", hit: true, ttl: 376, hasTTL: true}, "hitbox; hit; ttl=376"},
		{"RFC 9211 §2.5: a stale hit has a negative ttl", cacheStatus{name: "hitbox", hit: true, ttl: -412, hasTTL: true}, "hitbox; hit; ttl=-412"},
		{"RFC 9211 §2.5: a ttl of zero is written", cacheStatus{name: "hitbox", hit: true, hasTTL: true}, "hitbox; hit; ttl=0"},
		{"RFC 9211 §2.2: a complete miss", cacheStatus{name: "hitbox", fwd: "uri-miss"}, "hitbox; fwd=uri-miss"},
		{"RFC 9211 §2.3: a revalidation answered 304", cacheStatus{name: "hitbox", fwd: "stale", fwdStatus: 304}, "hitbox; fwd=stale; fwd-status=304"},
		{"RFC 9211 §2.4, §2.6: stored and collapsed", cacheStatus{name: "hitbox", fwd: "uri-miss", fwdStatus: 200, stored: true, collapsed: true}, "hitbox; fwd=uri-miss; fwd-status=200; stored; collapsed"},
		{"RFC 9211 §2.1: hit and fwd are exclusive, hit wins", cacheStatus{name: "hitbox", hit: true, fwd: "stale", stored: true}, "hitbox; hit"},
		{"RFC 9211 §2.4: stored means nothing without fwd", cacheStatus{name: "hitbox", stored: true, collapsed: true}, "hitbox"},
		{"RFC 9211 §2.7: the key is a String", cacheStatus{name: "hitbox", hit: true, key: `http:example.com/"a"\b`}, `hitbox; hit; key="http:example.com/\"a\"\\b"`},
		{"RFC 9211 §2.8: detail is a String", cacheStatus{name: "hitbox", hit: true, detail: "tier.memory"}, `hitbox; hit; detail="tier.memory"`},
		{"RFC 8941 §3.3.3: bytes a String cannot carry become '?'", cacheStatus{name: "hitbox", fwd: "miss", detail: "redis:\tdown\n\u00e9"}, `hitbox; fwd=miss; detail="redis:?down???"`},
		{"RFC 9211 §2: a name that is no Token is a String", cacheStatus{name: "Example CDN", hit: true}, `"Example CDN"; hit`},
		{"RFC 8941 §3.3.4: a Token may hold ':' and '/'", cacheStatus{name: "cache-3.example.com:8080/x", hit: true}, "cache-3.example.com:8080/x; hit"},
		{"RFC 9211 §2.2: a fwd that is no Token is written as miss", cacheStatus{name: "hitbox", fwd: "not a token"}, "hitbox; fwd=miss"},
		{"RFC 8941 §3.3.1: a ttl beyond the Integer range is clamped", cacheStatus{name: "hitbox", hit: true, ttl: 1 << 62, hasTTL: true}, "hitbox; hit; ttl=999999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := tt.s.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
		})
	}
}
