package httpcache_test

import (
	"testing"

	"github.com/hitbox-go/hitbox/httpcache"
)

// TestConformancePOST: a response to POST that says it is the target's
// representation (explicit freshness, Content-Location = the target URI)
// answers later GET and HEAD requests for it (RFC 9110 §9.3.3); any other
// response to POST, or one the GET rules would refuse, does not.
func TestConformancePOST(t *testing.T) {
	t.Parallel()
	post := func(kv ...string) ex {
		e := miss(ok("posted", kv...)).to("POST", "/r")
		e.reqBody = "12345"
		return e
	}
	self := []string{"Cache-Control", "max-age=100", "Content-Location", "/r"}
	fresh := missAt(sec, ok("fresh", "Cache-Control", "max-age=100"))
	runCases(t, []conformanceCase{
		{name: "RFC 9110 §9.3.3: max-age and Content-Location naming the target: a later GET is answered from it",
			ex: []ex{post(self...), hitAt(sec, "posted", "1")}},
		{name: "RFC 9110 §9.3.3: a HEAD too",
			ex: []ex{post(self...), hitAt(sec, "", "1").to("HEAD", "/r")}},
		{name: "RFC 9110 §9.3.3: an absolute Content-Location on the same origin names the target too",
			ex: []ex{post("Cache-Control", "max-age=100", "Content-Location", host+"/r"), hitAt(sec, "posted", "1")}},
		{name: "RFC 9111 §4.4: it replaces the GET response stored before",
			ex: []ex{miss(ok("old", "Cache-Control", "max-age=100")), post(self...), hitAt(sec, "posted", "1")}},
		{name: "RFC 9110 §9.3.3: s-maxage and Expires are explicit freshness as well",
			ex: []ex{post("Cache-Control", "s-maxage=100", "Content-Location", "/r"), hitAt(sec, "posted", "1")}},
		{name: "RFC 9110 §9.3.3: without explicit freshness (Last-Modified alone) it is not stored",
			ex: []ex{post("Last-Modified", ago(100*sec*60), "Content-Location", "/r"), fresh}},
		{name: "RFC 9110 §9.3.3: without Content-Location it is not stored",
			ex: []ex{post("Cache-Control", "max-age=100"), fresh}},
		{name: "RFC 9110 §9.3.3: a Content-Location naming another URI: stored for neither",
			ex: []ex{post("Cache-Control", "max-age=100", "Content-Location", "/other"), fresh,
				missAt(0, ok("other")).to("GET", "/other")}},
		{name: "RFC 9110 §9.3.3: /r? is not /r",
			ex: []ex{post("Cache-Control", "max-age=100", "Content-Location", "/r?"), fresh}},
		{name: "RFC 9110 §9.3.3: another origin is not the target",
			ex: []ex{post("Cache-Control", "max-age=100", "Content-Location", "http://other.test/r"), fresh}},
		{name: "RFC 9111 §4.4: an error response (500) is neither an invalidation nor stored",
			ex: []ex{{method: "POST", path: "/r", reqBody: "x", origin: status(500, self...), status: 500}, fresh}},
		{name: "RFC 9111 §5.2.2.5: no-store wins",
			ex: []ex{post("Cache-Control", "max-age=100, no-store", "Content-Location", "/r"), fresh}},
		{name: "RFC 9111 §5.2.1.5: a request no-store too",
			ex: []ex{post(self...).with("Cache-Control", "no-store"), fresh}},
		{name: "hitbox credentials: a POST with Cookie and no public or s-maxage is not stored",
			ex: []ex{post(self...).with("Cookie", "id=1"), fresh}},
		{name: "hitbox Options.BypassFields: a POST carrying X-HTTP-Method-Override is not stored",
			ex: []ex{post(self...).with("X-HTTP-Method-Override", "PUT"), fresh}},
		{name: "hitbox Options.NoStorePOST: nothing from a POST is stored",
			opts: httpcache.Options{NoStorePOST: true},
			ex:   []ex{post(self...), fresh}},
		{name: "RFC 9111 §4.1: it is stored per the Vary-named fields the POST sent",
			ex: []ex{
				post("Cache-Control", "max-age=100", "Content-Location", "/r", "Vary", "Accept-Language").with("Accept-Language", "en"),
				hitAt(sec, "posted", "1").with("Accept-Language", "en"),
				missAt(0, ok("fr", "Cache-Control", "max-age=100", "Vary", "Accept-Language")).with("Accept-Language", "fr"),
			}},
	})
}
