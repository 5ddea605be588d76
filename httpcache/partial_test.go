package httpcache_test

import (
	"testing"
)

// TestConformancePartial: a 206 is stored as the part it is, answers the
// ranges inside it, and is combined with another part of the same
// representation (RFC 9111 §3.3, §3.4); it never passes for a complete
// response, nor displaces one.
func TestConformancePartial(t *testing.T) {
	t.Parallel()
	part := func(body, cr string, kv ...string) *resp {
		return &resp{status: 206, body: body, header: hdr(append([]string{"Content-Range", cr}, kv...)...)}
	}
	rng := func(e ex, spec string) ex { return e.with("Range", spec) }
	// hitPart expects a 206 from the cache.
	hitPart := func(spec, body, cr string) ex {
		return ex{after: sec, status: 206, body: str(body), header: hdr("Range", spec)}.expect("Content-Range", cr)
	}
	cc := []string{"Cache-Control", "max-age=100"}
	tail := rng(miss(part("56789", "bytes 5-9/10", cc...)), "bytes=-5")
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.3: a stored part answers the same range",
			ex: []ex{tail, hitPart("bytes=-5", "56789", "bytes 5-9/10")}},
		{name: "RFC 9111 §3.3: and any range inside it",
			ex: []ex{tail,
				hitPart("bytes=6-8", "678", "bytes 6-8/10"),
				hitPart("bytes=6-", "6789", "bytes 6-9/10"),
				hitPart("bytes=-1", "9", "bytes 9-9/10"),
			}},
		{name: "RFC 9111 §3.3: a range outside the part goes to the origin (fwd=partial)",
			ex: []ex{tail, rng(missAt(sec, part("01", "bytes 0-1/10", cc...)), "bytes=0-1").fwdIs("partial")}},
		{name: "RFC 9111 §3.3: a request without Range is a miss, and the complete response replaces the part",
			ex: []ex{tail, missAt(sec, ok("0123456789", cc...)).fwdIs("partial"),
				{after: sec, status: 206, body: str("01"), header: hdr("Range", "bytes=0-1")}}},
		{name: "RFC 9111 §3.3: plain requests in a row are never answered with the part (the front of hot responses included)",
			ex: []ex{tail, hitPart("bytes=-5", "56789", "bytes 5-9/10"), hitPart("bytes=-5", "56789", "bytes 5-9/10"),
				hitPart("bytes=-5", "56789", "bytes 5-9/10"), missAt(sec, status(500)).fwdIs("partial"),
				missAt(sec, status(500)), missAt(sec, status(500))}},
		{name: "RFC 9111 §3.3: a HEAD is not answered from a part",
			ex: []ex{tail, missAt(sec, ok("", cc...)).to("HEAD", "/r")}},
		{name: "RFC 9111 §4.2: a stale part is not used",
			ex: []ex{rng(miss(part("56789", "bytes 5-9/10", "Cache-Control", "max-age=10")), "bytes=-5"),
				rng(missAt(20*sec, part("56789", "bytes 5-9/10", cc...)), "bytes=-5")}},
		{name: "RFC 9110 §13.1.5: If-Range is left to the origin",
			ex: []ex{rng(miss(part("56789", "bytes 5-9/10", "Cache-Control", "max-age=100", "ETag", `"e"`)), "bytes=-5"),
				rng(missAt(sec, part("56789", "bytes 5-9/10", cc...)), "bytes=-5").with("If-Range", `"e"`)}},
		{name: "RFC 9111 §3.4: two parts with one strong ETag that cover it all are stored as the complete response",
			ex: []ex{
				rng(miss(part("01234", "bytes 0-4/10", "Cache-Control", "max-age=100", "ETag", `"e"`)), "bytes=0-4"),
				rng(missAt(sec, part("56789", "bytes 5-9/10", "Cache-Control", "max-age=100", "ETag", `"e"`)), "bytes=5-9"),
				hitAt(sec, "0123456789", "1").expect("Content-Length", "10").without("Content-Range"),
			}},
		{name: "RFC 9111 §3.4: overlapping parts are combined into one",
			ex: []ex{
				rng(miss(part("0123", "bytes 0-3/10", "Cache-Control", "max-age=100", "ETag", `"e"`)), "bytes=0-3"),
				rng(missAt(sec, part("2345", "bytes 2-5/10", "Cache-Control", "max-age=100", "ETag", `"e"`)), "bytes=2-5"),
				hitPart("bytes=1-4", "1234", "bytes 1-4/10"),
			}},
		{name: "RFC 9111 §3.4: parts with different ETags are not combined (the later one is kept)",
			ex: []ex{
				rng(miss(part("01234", "bytes 0-4/10", "Cache-Control", "max-age=100", "ETag", `"a"`)), "bytes=0-4"),
				rng(missAt(sec, part("56789", "bytes 5-9/10", "Cache-Control", "max-age=100", "ETag", `"b"`)), "bytes=5-9"),
				missAt(sec, ok("0123456789", cc...)),
			}},
		{name: "RFC 9111 §3.4: weak ETags are not a reason to combine",
			ex: []ex{
				rng(miss(part("01234", "bytes 0-4/10", "Cache-Control", "max-age=100", "ETag", `W/"e"`)), "bytes=0-4"),
				rng(missAt(sec, part("56789", "bytes 5-9/10", "Cache-Control", "max-age=100", "ETag", `W/"e"`)), "bytes=5-9"),
				missAt(sec, ok("0123456789", cc...)),
			}},
		{name: "RFC 9110 §14.4: a part whose content is not the range it states is not stored",
			ex: []ex{rng(miss(part("01234", "bytes 4-9/10", cc...)), "bytes=4-8"),
				rng(missAt(sec, part("45678", "bytes 4-8/10", cc...)), "bytes=4-8")}},
		{name: "RFC 9111 §3.3: a 206 to a request without Range is not stored",
			ex: []ex{miss(part("01234", "bytes 0-4/10", cc...)), missAt(sec, ok("0123456789", cc...))}},
		{name: "RFC 9111 §3.3: a part of unknown length is not stored",
			ex: []ex{rng(miss(part("56789", "bytes 5-9/*", cc...)), "bytes=5-9"),
				rng(missAt(sec, part("56789", "bytes 5-9/10", cc...)), "bytes=5-9")}},
		{name: "RFC 9111 §3.3: a part does not displace a complete response",
			ex: []ex{
				miss(ok("0123456789", "Cache-Control", "max-age=10", "ETag", `"e"`)),
				rng(missAt(20*sec, part("56789", "bytes 5-9/10", cc...)), "bytes=-5"),
				ex{after: sec, status: 200, body: str("0123456789"), header: hdr("Cache-Control", "max-stale")},
			}},
	})
}
