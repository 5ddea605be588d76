package httpcache

import (
	"reflect"
	"testing"
)

// absent is the directives value of an empty field.
func absentDirectives() directives {
	return directives{maxAge: -1, sMaxAge: -1, maxStale: -1, minFresh: -1, staleWhileRevalidate: -1, staleIfError: -1}
}

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		why   string
		lines []string
		want  func(d *directives)
	}{
		{"§5.2: no field means no directives", nil, func(d *directives) {}},
		{"§5.2: empty lines are no field", []string{"", " \t"}, func(d *directives) {}},
		{"§5.2: empty list members are no directive", []string{" , ,"}, func(d *directives) { d.present = true }},
		{"§5.4: a field of garbage is still present", []string{"=5"}, func(d *directives) { d.present = true }},
		{"§5.2.2.1: max-age gives seconds", []string{"max-age=60"}, func(d *directives) {
			d.present, d.maxAge = true, 60
		}},
		{"§5.2: directive names are case-insensitive", []string{"Max-Age=60, NO-STORE, Public"}, func(d *directives) {
			d.present, d.maxAge, d.noStore, d.public = true, 60, true, true
		}},
		{"§5.2: recipients accept the quoted form of a token argument", []string{`max-age="60"`}, func(d *directives) {
			d.present, d.maxAge = true, 60
		}},
		{"§1.2.2: leading zeros are digits like any other", []string{"max-age=003600"}, func(d *directives) {
			d.present, d.maxAge = true, 3600
		}},
		{"§1.2.2: delta-seconds beyond 2^31 is 2^31", []string{"s-maxage=99999999999999999999999"}, func(d *directives) {
			d.present, d.sMaxAge = true, 1<<31
		}},
		{"§4.2.1: a non-integer max-age is invalid freshness: stale", []string{"max-age=3600.5"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§4.2.1: a negative max-age is invalid freshness: stale", []string{"max-age=-1"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§4.2.1: a single-quoted max-age is invalid: stale", []string{"max-age='3600'"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§5.2: no whitespace before '=': the directive is invalid, stale", []string{"max-age =3600"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§5.2: no whitespace after '=': the directive is invalid, stale", []string{"max-age= 3600"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§5.2.2.1: max-age without an argument is invalid: stale", []string{"max-age"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§4.2.1: two different max-age values on one line: stale", []string{"max-age=1800, max-age=1"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§4.2.1: two different max-age values on two lines: stale", []string{"max-age=1", "max-age=1800"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"§4.2.1: a repeated identical max-age is no conflict", []string{"max-age=5", "max-age=5"}, func(d *directives) {
			d.present, d.maxAge = true, 5
		}},
		{"§5.2: a max-age inside a quoted extension argument is not a directive", []string{`extension="max-age=3600", max-age=1`}, func(d *directives) {
			d.present, d.maxAge = true, 1
		}},
		{"§5.2: a quoted comma does not split the list", []string{`foo="a, no-store", max-age=1`}, func(d *directives) {
			d.present, d.maxAge = true, 1
		}},
		{"§5.2.3: unknown directives are ignored", []string{"community=UCI, private"}, func(d *directives) {
			d.present, d.private = true, true
		}},
		{"§5.2.2.4: unqualified no-cache", []string{"no-cache"}, func(d *directives) {
			d.present, d.noCache = true, true
		}},
		{"§5.2.2.4: qualified no-cache lists lower-case field names", []string{`no-cache="Set-Cookie, X-Foo"`}, func(d *directives) {
			d.present, d.noCacheFields = true, []string{"set-cookie", "x-foo"}
		}},
		{"§5.2.2.4: the token form of a single field is accepted", []string{`no-cache=a`}, func(d *directives) {
			d.present, d.noCacheFields = true, []string{"a"}
		}},
		{"§5.2.2.4: an empty field list is read as unqualified", []string{`no-cache=""`}, func(d *directives) {
			d.present, d.noCache = true, true
		}},
		{"§5.2.2.7: qualified private keeps the fields apart", []string{`private="Authorization-Info"`}, func(d *directives) {
			d.present, d.privateFields = true, []string{"authorization-info"}
		}},
		{"§5.2.2.7: unqualified private", []string{"PRIVATE"}, func(d *directives) {
			d.present, d.private = true, true
		}},
		{"§4.2.1: both no-cache forms: the unqualified governs", []string{`no-cache="a", no-cache`}, func(d *directives) {
			d.present, d.noCache, d.noCacheFields = true, true, []string{"a"}
		}},
		{"§5.2.1.2: a bare max-stale accepts any staleness", []string{"max-stale"}, func(d *directives) {
			d.present, d.maxStaleAny = true, true
		}},
		{"§5.2.1.2: max-stale with a value bounds staleness", []string{"max-stale=10"}, func(d *directives) {
			d.present, d.maxStale = true, 10
		}},
		{"§4.2.1: bare and bounded max-stale: the bound, more restrictive", []string{"max-stale, max-stale=10"}, func(d *directives) {
			d.present, d.maxStale = true, 10
		}},
		{"§5.2.1.3: min-fresh", []string{"min-fresh=20"}, func(d *directives) {
			d.present, d.minFresh = true, 20
		}},
		{"§5.2.1: request directives together", []string{"no-cache, no-store, only-if-cached, max-age=0, no-transform"}, func(d *directives) {
			d.present, d.noCache, d.noStore, d.onlyIfCached, d.maxAge, d.noTransform = true, true, true, true, 0, true
		}},
		{"RFC 5861: stale-while-revalidate and stale-if-error", []string{"max-age=1, stale-while-revalidate=30, stale-if-error=60"}, func(d *directives) {
			d.present, d.maxAge, d.staleWhileRevalidate, d.staleIfError = true, 1, 30, 60
		}},
		{"RFC 5861: an invalid window grants nothing", []string{"stale-while-revalidate=abc, stale-if-error"}, func(d *directives) {
			d.present = true
		}},
		{"§5.2.2: the revalidation and understanding directives", []string{"must-revalidate, proxy-revalidate, must-understand, no-store, immutable"}, func(d *directives) {
			d.present, d.mustRevalidate, d.proxyRevalidate, d.mustUnderstand, d.noStore, d.immutable = true, true, true, true, true, true
		}},
		{"§5.2.2.10: s-maxage and max-age side by side", []string{"max-age=10,s-maxage=20"}, func(d *directives) {
			d.present, d.maxAge, d.sMaxAge = true, 10, 20
		}},
		{"§5.2: whitespace around list members is optional", []string{" \tmax-age=10 \t,\tpublic "}, func(d *directives) {
			d.present, d.maxAge, d.public = true, 10, true
		}},
		{"§5.2: an unterminated quote spoils only its own directive", []string{`max-age=5, x="oops`}, func(d *directives) {
			d.present, d.maxAge = true, 5
		}},
		{"§5.2: garbage between directives is skipped", []string{`=5, "q", no-store`}, func(d *directives) {
			d.present, d.noStore = true, true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			want := absentDirectives()
			tt.want(&want)
			got := parseDirectives(tt.lines)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parseDirectives(%q)\n got %+v\nwant %+v", tt.lines, got, want)
			}
		})
	}
}

func TestReadQuotedEscapes(t *testing.T) {
	d := parseDirectives([]string{`no-cache="a\"b, c\\d, e"`})
	// A quoted-pair stands for its character (RFC 9110 §5.6.4); the
	// names a"b and c\d are not tokens and are dropped.
	if !reflect.DeepEqual(d.noCacheFields, []string{"e"}) {
		t.Errorf("noCacheFields = %q, want [e]", d.noCacheFields)
	}
}

func BenchmarkParseDirectives(b *testing.B) {
	lines := []string{"public, max-age=3600, stale-while-revalidate=60"}
	b.ReportAllocs()
	for b.Loop() {
		parseDirectives(lines)
	}
}

func TestParseTargetedDirectives(t *testing.T) {
	tests := []struct {
		why   string
		lines []string
		want  func(d *directives)
	}{
		{"RFC 9213 §2.1: the same directives as Cache-Control", []string{"max-age=60, public"}, func(d *directives) {
			d.present, d.maxAge, d.public = true, 60, true
		}},
		{"RFC 9213 §2.2: parameters on a directive are ignored", []string{`max-age=60;a=1, no-cache="x";b`}, func(d *directives) {
			d.present, d.maxAge, d.noCacheFields = true, 60, []string{"x"}
		}},
		{"RFC 9213 §2.2: a Boolean true is the directive", []string{"no-store=?1"}, func(d *directives) {
			d.present, d.noStore = true, true
		}},
		{"RFC 9213 §2.2: a Boolean false is no directive", []string{"no-store=?0, max-age=5"}, func(d *directives) {
			d.present, d.maxAge = true, 5
		}},
		{"RFC 8941 §4.2.2: a repeated key keeps its last value", []string{"max-age=5", "max-age=60"}, func(d *directives) {
			d.present, d.maxAge = true, 60
		}},
		{"RFC 9213 §2.2: a Decimal max-age is not consumed: stale", []string{"max-age=5.5"}, func(d *directives) {
			d.present, d.maxAge, d.invalidFreshness = true, 0, true
		}},
		{"RFC 9213 §2.2: a ';' inside a String is no parameter", []string{`private="a;b", max-age=1`}, func(d *directives) {
			d.present, d.maxAge, d.private = true, 1, true
		}},
		{"RFC 9213 §2.2: only false members: present, with nothing", []string{"no-store=?0"}, func(d *directives) {
			d.present = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			want := absentDirectives()
			tt.want(&want)
			if got := parseTargetedDirectives(tt.lines); !reflect.DeepEqual(got, want) {
				t.Errorf("parseTargetedDirectives(%q)\n got %+v\nwant %+v", tt.lines, got, want)
			}
		})
	}
}
