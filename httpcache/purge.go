package httpcache

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/hitbox-go/hitbox"
)

// maxPurgeBody bounds the form body of a purge request: room for
// thousands of tags, never an unbounded read.
const maxPurgeBody = 1 << 20

// PurgeHandler returns the handler that purges this cache on request, for
// the user to mount (on an admin listener, say) behind their own
// authentication: it checks nothing itself.
//
// It takes POST only, with its parameters in the query or in a form body
// (application/x-www-form-urlencoded), and answers in JSON:
//
//   - url=U purges the stored responses for the absolute URL U, every
//     variant and GET and HEAD alike: 200 {"url":U,"removed":true} when
//     something was stored, 404 {"url":U,"removed":false} when nothing
//     was. U maps to the key a request for it would have, so it is the
//     URL as this cache's clients address it (with IgnoreHost, a path and
//     query alone will do; with Options.Key, the Key function sees a GET
//     for U with no header fields).
//   - tag=T (repeated, or several tags separated by spaces or commas, as
//     in Surrogate-Key) purges every stored response that carries one of
//     the tags, however many: 200 {"tags":[...]}. It needs a backend that
//     is a hitbox.Tagger: over any other it answers 501, since responses
//     were stored untagged.
//
// Other methods get 405, a malformed request 400 with {"error":...} saying
// what is wrong, a form body over 1 MiB 413, and a failing backend 503.
// Purges go down the whole pipeline, like the invalidations of unsafe
// methods (RFC 9111 §4.4), and a response this Cache asked for before a
// purge is not stored after it. Over a backend with leases
// (hitbox.Leaser), neither is one that another instance sharing it asked
// for before (see the package's Consistency section); over one without,
// such a response, stored after the purge, lives on.
func (c *Cache) PurgeHandler() http.Handler {
	return purgeHandler{c: c}
}

type purgeHandler struct{ c *Cache }

// purgeAnswer is the JSON body of every purge response.
type purgeAnswer struct {
	URL     string   `json:"url,omitempty"`
	Removed *bool    `json:"removed,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func (p purgeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := p.c
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writePurge(w, http.StatusMethodNotAllowed, purgeAnswer{Error: "purge with POST, not " + r.Method})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPurgeBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writePurge(w, http.StatusRequestEntityTooLarge, purgeAnswer{Error: "the form is over 1 MiB: purge in several requests"})
			return
		}
		writePurge(w, http.StatusBadRequest, purgeAnswer{Error: "unreadable parameters: " + err.Error()})
		return
	}
	req, err := c.parsePurge(r.Form)
	if err != nil {
		writePurge(w, http.StatusBadRequest, purgeAnswer{Error: err.Error()})
		return
	}
	ctx := context.WithoutCancel(r.Context()) // a purge begun is finished
	if req.url != nil {
		removed, err := c.purgeURL(ctx, req.key)
		if err != nil {
			c.logError(ctx, "purging a URL failed", "err", err)
			writePurge(w, http.StatusServiceUnavailable, purgeAnswer{URL: req.url.String(),
				Error: "the cache's backend failed (" + errDetail(err) + "); try again"})
			return
		}
		status := http.StatusOK
		if !removed {
			status = http.StatusNotFound
		}
		writePurge(w, status, purgeAnswer{URL: req.url.String(), Removed: &removed})
		return
	}
	if err := c.purgeTags(ctx, req.tags); err != nil {
		if errors.Is(err, hitbox.ErrNotSupported) {
			writePurge(w, http.StatusNotImplemented, purgeAnswer{Tags: req.tags,
				Error: "the cache's backend (" + c.b.Label() + ") keeps no tags: responses are stored untagged and cannot be purged by tag"})
			return
		}
		c.logError(ctx, "purging tags failed", "err", err)
		writePurge(w, http.StatusServiceUnavailable, purgeAnswer{Tags: req.tags,
			Error: "the cache's backend failed (" + errDetail(err) + "); try again"})
		return
	}
	writePurge(w, http.StatusOK, purgeAnswer{Tags: req.tags})
}

func writePurge(w http.ResponseWriter, status int, a purgeAnswer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// purgeRequest is a parsed purge: a URL (with its primary key) or tags.
type purgeRequest struct {
	url  *url.URL
	key  string
	tags []string
}

// parsePurge reads a purge request's parameters. Errors say what is wrong
// in words a person running curl can act on.
func (c *Cache) parsePurge(form url.Values) (purgeRequest, error) {
	var req purgeRequest
	for name := range form {
		if name != "url" && name != "tag" {
			return req, errors.New("unknown parameter " + quoteParam(name) + ": give url or tag")
		}
	}
	urls, tags := form["url"], form["tag"]
	switch {
	case len(urls) > 0 && len(tags) > 0:
		return req, errors.New("give url or tag, not both")
	case len(urls) > 1:
		return req, errors.New("give one url per request")
	case len(urls) == 1:
		u, err := c.purgeURLOf(urls[0])
		if err != nil {
			return req, err
		}
		req.url, req.key = u, c.keyOfURL(u)
		return req, nil
	case len(tags) > 0:
		for _, v := range tags {
			var over bool
			if req.tags, over = appendTags(req.tags, v, 0); over {
				return purgeRequest{}, errors.New("a tag is longer than hitbox.MaxTagLen (1024 bytes)")
			}
		}
		if len(req.tags) == 0 {
			return req, errors.New("tag is empty: give one or more tags")
		}
		return req, nil
	}
	return req, errors.New("give url=URL to purge a URL, or tag=TAG (one or more) to purge by tag")
}

// purgeURLOf parses the url parameter of a purge: an absolute http or
// https URL, or with IgnoreHost a path (and query) alone.
func (c *Cache) purgeURLOf(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("url is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("url " + quoteParam(s) + " does not parse")
	}
	u.Fragment, u.RawFragment = "", "" // never part of a request, nor of a key
	switch {
	case u.User != nil:
		return nil, errors.New("url " + quoteParam(s) + ": user information is no part of a cache key")
	case u.Opaque != "":
		return nil, errors.New("url " + quoteParam(s) + ": want scheme://host/path")
	case u.Scheme == "" && u.Host == "" && c.opts.IgnoreHost && strings.HasPrefix(u.Path, "/"):
		u.Scheme = "http" // ignored by the key
		return u, nil
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"), u.Host == "":
		return nil, errors.New("url " + quoteParam(s) + ": want an absolute http:// or https:// URL, as clients address this cache")
	}
	return u, nil
}

// quoteParam quotes a client's string for an error message, shortened.
func quoteParam(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// purgeURL removes what is stored at a primary key: the response, or the
// index through which every variant is found (variants are written under
// the index's epoch, and a new index never leads to them). It reports
// whether anything live was there. Like an invalidation (RFC 9111 §4.4),
// it marks the key's guard stripe first, so a response asked for before
// the purge is not stored after it.
func (c *Cache) purgeURL(ctx context.Context, key string) (bool, error) {
	m := c.guard.Begin(key)
	defer m.End()
	c.flights.forget(key)
	return hitbox.Remove(ctx, c.b, key)
}

// purgeTags invalidates tags through the pipeline, bracketed by the
// purges guard so a tagged response asked for before it is not stored
// after it.
func (c *Cache) purgeTags(ctx context.Context, tags []string) error {
	c.purges.begin()
	defer c.purges.end()
	return hitbox.InvalidateTags(ctx, c.b, tags...)
}
