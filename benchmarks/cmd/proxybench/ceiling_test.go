package main

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestCeilingAnswersAsTheOrigin: the ceiling server answers each hit URL
// with the origin's status, header fields (and a Date) and body without
// reaching the origin, and forwards a no-store request to it.
func TestCeilingAnswersAsTheOrigin(t *testing.T) {
	org, err := startOrigin()
	if err != nil {
		t.Fatal(err)
	}
	defer org.close()
	h, err := ceilingHandler(org.addr, org.lastModified, 4)
	if err != nil {
		t.Fatal(err)
	}
	ceil := httptest.NewServer(h)
	defer ceil.Close()

	get := func(url string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	for _, path := range []string{"/1k", "/16k", "/u/0", "/u/9999", "/nostore"} {
		want, wantBody := get("http://" + org.addr + path)
		before := org.n.Load()
		got, gotBody := get(ceil.URL + path)
		reached := org.n.Load() - before
		if path == "/nostore" {
			if reached != 1 {
				t.Errorf("%s reached the origin %d times, want 1 (pass-through)", path, reached)
			}
		} else if reached != 0 {
			t.Errorf("%s reached the origin %d times, want 0 (held in memory)", path, reached)
		}
		if got.StatusCode != want.StatusCode {
			t.Errorf("%s: status %d, the origin's %d", path, got.StatusCode, want.StatusCode)
		}
		if !bytes.Equal(gotBody, wantBody) {
			t.Errorf("%s: %d body bytes differ from the origin's %d", path, len(gotBody), len(wantBody))
		}
		if got.Header.Get("Date") == "" {
			t.Errorf("%s: no Date", path)
		}
		gh, wh := got.Header.Clone(), want.Header.Clone()
		delete(gh, "Date")
		delete(wh, "Date")
		if !maps.EqualFunc(gh, wh, slices.Equal) {
			t.Errorf("%s: header %v, the origin's %v", path, gh, wh)
		}
	}
	// Not a hit URL: forwarded, and the origin's 404 comes back.
	if resp, _ := get(ceil.URL + "/elsewhere"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/elsewhere: status %d, want the origin's 404", resp.StatusCode)
	}
}
