package httpcache

import (
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hitbox-go/hitbox"
)

// defaultTagFields are the response fields tags are read from when
// Options.TagFields is empty: the names CDNs use for surrogate keys.
var defaultTagFields = []string{"Surrogate-Key", "Cache-Tag"}

// reservedTagFields are fields the cache reads for its own decisions or
// sends itself: naming one as a tag field would strip it from responses.
var reservedTagFields = []string{
	"Age", "Cache-Control", "Cache-Status", "Content-Length", "Content-Type", "Date",
	"Etag", "Expires", "Last-Modified", "Set-Cookie", "Vary",
}

// validateTagFields checks Options.TagFields.
func validateTagFields(names []string) string {
	for _, n := range names {
		switch {
		case n == "-":
			if len(names) > 1 {
				return `"-" turns tags off and goes alone`
			}
		case !isToken(n):
			return `"` + n + `" is not a field name`
		case slices.Contains(reservedTagFields, textproto.CanonicalMIMEHeaderKey(n)):
			return `"` + n + `" is a field the cache reads or sends itself`
		}
	}
	return ""
}

// resolveTagFields returns the canonical tag field names: the defaults for
// none, nil for "-".
func resolveTagFields(names []string) []string {
	switch {
	case len(names) == 0:
		return defaultTagFields
	case len(names) == 1 && names[0] == "-":
		return nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = textproto.CanonicalMIMEHeaderKey(n); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// appendTags adds the tags of one field line (or of one purge parameter)
// to tags: members separated by spaces, tabs or commas, as Surrogate-Key
// (space separated) and Cache-Tag (comma separated) both write them.
// Duplicates are dropped, first occurrence kept. A tag over
// hitbox.MaxTagLen is dropped, and with limit > 0 no more than limit tags
// are kept; over reports either. The cost is bounded by len(line) times
// limit.
func appendTags(tags []string, line string, limit int) (_ []string, over bool) {
	for line != "" {
		i := strings.IndexAny(line, " \t,")
		var t string
		if i < 0 {
			t, line = line, ""
		} else {
			t, line = line[:i], line[i+1:]
		}
		switch {
		case t == "":
		case len(t) > hitbox.MaxTagLen:
			over = true
		case slices.Contains(tags, t):
		case limit > 0 && len(tags) >= limit:
			over = true
		default:
			tags = append(tags, t)
		}
	}
	return tags, over
}

// parseTagLines returns the tags of a response's tag field lines, at most
// hitbox.MaxTags of them, each within hitbox.MaxTagLen: a response carrying
// more keeps what fits (over is then true) rather than fail.
func parseTagLines(lines []string) (tags []string, over bool) {
	for _, l := range lines {
		var o bool
		tags, o = appendTags(tags, l, hitbox.MaxTags)
		over = over || o
	}
	return tags, over
}

// tagsOfFields returns the tags a stored response's fields carry.
func (c *Cache) tagsOfFields(fields []field) (tags []string, over bool) {
	if len(c.opts.TagFields) == 0 {
		return nil, false
	}
	var lines []string
	for _, f := range fields {
		if slices.Contains(c.opts.TagFields, f.name) {
			lines = append(lines, f.value)
		}
	}
	if len(lines) == 0 {
		return nil, false
	}
	return parseTagLines(lines)
}

// tagsOfHeader returns the tags a response header carries.
func (c *Cache) tagsOfHeader(h http.Header) (tags []string, over bool) {
	var lines []string
	for _, name := range c.opts.TagFields {
		lines = append(lines, h[name]...)
	}
	if len(lines) == 0 {
		return nil, false
	}
	return parseTagLines(lines)
}

// stripFields removes from a response going to the client the fields
// meant for this cache (see strippedFields).
func (c *Cache) stripFields(h http.Header) {
	for _, name := range c.strip {
		delete(h, name)
	}
}

// strippedFields lists the fields meant for this cache, which responses
// to clients go without: the targeted field (RFC 9213) and the tag
// fields, unless the options forward them.
func strippedFields(o Options) []string {
	var names []string
	if o.TargetField != "" && !o.ForwardTargetField {
		names = append(names, o.TargetField)
	}
	if !o.ForwardTagFields {
		names = append(names, o.TagFields...)
	}
	return names
}

// setTagged writes e under key with tags: through hitbox.SetTagged when
// the backend keeps tags, else as a plain Set, so a backend that is no
// Tagger still caches (untagged; its purge by tag answers 501).
func (c *Cache) setTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if len(tags) > 0 && !c.untagged.Load() {
		err := hitbox.SetTagged(ctx, c.b, key, e, tags...)
		if !errors.Is(err, hitbox.ErrNotSupported) {
			return err
		}
		if !c.untagged.Swap(true) {
			c.logError(ctx, "the backend keeps no tags: responses are stored untagged and cannot be purged by tag",
				"backend", c.b.Label())
		}
	}
	return c.b.Set(ctx, key, e)
}

// tagOverflow notes a response that carried more tags than an entry may
// keep: logged once per Cache, and named in the response's Cache-Status.
func (x *exchange) tagOverflow() {
	if x.cs.detail == "" {
		x.cs.detail = "tags truncated"
	}
	if !x.c.tagsWarned.Swap(true) {
		x.c.logError(x.r.Context(), "a response carried tags over hitbox.MaxTags or hitbox.MaxTagLen; it is stored with those that fit (logged once)")
	}
}

// tagPurges keeps a tagged response asked for before a purge by tag from
// being stored after it. The store cannot tell: a write that reaches it
// after the purge reads the tags' new versions and lives, whatever the
// age of the response it carries. So, as Cache.guard does for one URI,
// a purge by tag brackets its InvalidateTags with begin and end, a request
// stamps before its lookup, and a tagged response is stored only while no
// purge by tag has begun since (nor is running), and deleted again when
// one began during the write. One generation for all tags: purges are rare,
// and a response in flight during one costs one more miss at worst.
type tagPurges struct {
	gen    atomic.Uint64
	active atomic.Int64
}

// tagStamp is what a request remembers of tagPurges before its lookup.
type tagStamp struct {
	gen  uint64
	busy bool
}

func (p *tagPurges) begin() {
	p.active.Add(1)
	p.gen.Add(1)
}

func (p *tagPurges) end() { p.active.Add(-1) }

func (p *tagPurges) stamp() tagStamp {
	return tagStamp{gen: p.gen.Load(), busy: p.active.Load() != 0}
}

// valid reports whether no purge by tag began since st, nor runs now.
func (p *tagPurges) valid(st tagStamp) bool {
	return !st.busy && p.active.Load() == 0 && p.gen.Load() == st.gen
}
