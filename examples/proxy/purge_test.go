package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProxyPurge runs the proxy with its admin listener against a real
// origin on loopback: a tagged response is cached (its Surrogate-Key not
// sent on), purged by URL and then by tag over the admin listener, each
// purge followed by a miss; a missing or wrong token gets 401.
func TestProxyPurge(t *testing.T) {
	o := &origin{calls: map[string]int{}}
	srv := httptest.NewServer(o)
	defer srv.Close()
	base, admin, stop := startProxy(t, srv.URL)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	auth := []string{"Authorization", "Bearer " + testToken}

	cached := func(step string) {
		t.Helper()
		r := do(t, c, "GET", base+"/tagged", "")
		if hit(r) || r.status != 200 {
			t.Fatalf("%s: first GET %d %q, want a miss", step, r.status, r.header.Get("Cache-Status"))
		}
		if sk := r.header.Values("Surrogate-Key"); len(sk) > 0 {
			t.Errorf("%s: the client saw Surrogate-Key %q; it is for the cache", step, sk)
		}
		if r = do(t, c, "GET", base+"/tagged", ""); !hit(r) {
			t.Fatalf("%s: second GET %q, want a hit", step, r.header.Get("Cache-Status"))
		}
	}
	cached("before the purges")

	purgeURL := admin + "/purge?url=" + url.QueryEscape(base+"/tagged")
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"no token", nil},
		{"a wrong token", []string{"Authorization", "Bearer " + strings.Repeat("x", len(testToken))}},
		{"a prefix of the token", []string{"Authorization", "Bearer " + testToken[:len(testToken)-1]}},
		{"the token in another scheme", []string{"Authorization", "Basic " + testToken}},
	} {
		r := do(t, c, "POST", purgeURL, "", tc.hdr...)
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("purge with %s: %d, WWW-Authenticate %q; want 401 asking for a bearer token",
				tc.name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
	if r := do(t, c, "GET", base+"/tagged", ""); !hit(r) {
		t.Errorf("after the refused purges: %q, want still a hit", r.header.Get("Cache-Status"))
	}

	if r := do(t, c, "GET", purgeURL, "", auth...); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /purge with the token: %d, want 405", r.status)
	}
	if r := do(t, c, "POST", purgeURL, "", auth...); r.status != 200 || !strings.Contains(r.body, `"removed":true`) {
		t.Errorf("purge by URL: %d %s, want 200 removed:true", r.status, r.body)
	}
	if r := do(t, c, "POST", purgeURL, "", auth...); r.status != 404 {
		t.Errorf("purge by URL again: %d %s, want 404", r.status, r.body)
	}
	cached("after the purge by URL")

	// By tag: the origin's Surrogate-Key was stored with the response.
	r := do(t, c, "POST", admin+"/purge", "tag=product-7", append(auth, "Content-Type", "application/x-www-form-urlencoded")...)
	if r.status != 200 || r.body != `{"tags":["product-7"]}`+"\n" {
		t.Errorf("purge by tag: %d %s, want 200 with the tags", r.status, r.body)
	}
	if r := do(t, c, "GET", base+"/tagged", ""); hit(r) {
		t.Errorf("after the purge by tag: %q, want a miss", r.header.Get("Cache-Status"))
	}

	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestAdminToken: the token comes from -admin-token, else from the
// environment, so it need not show in the process list.
func TestAdminToken(t *testing.T) {
	t.Setenv(tokenEnv, "from-the-environment")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"the environment gives it when the flag does not", nil, "from-the-environment"},
		{"the flag wins over the environment", []string{"-admin-token", testToken}, testToken},
	} {
		cfg, err := parseFlags(append([]string{"-origin", "http://x", "-admin", ":0"}, tc.args...), io.Discard)
		if err != nil || cfg.adminToken != tc.want {
			t.Errorf("%s: token %q, error %v; want %q", tc.name, cfg.adminToken, err, tc.want)
		}
	}
}
