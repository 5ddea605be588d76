package httpcache

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hitbox-go/hitbox"
)

// StoredInfo is what one stored value of the cache says, for tools that
// show what a cache holds (cmd/hitbox, an admin endpoint): a response, or
// the index of a varying resource's variants.
type StoredInfo struct {
	// Index is true for the index a varying resource keeps at its primary
	// key: then only VaryNames and Epoch are set.
	Index bool
	// Epoch names the index's generation of variants in their keys.
	Epoch uint64
	// VaryNames are the request fields (lower case) that select a variant;
	// VaryValues, of a response, the values that selected it: "" for a
	// field the request did not carry, else "=" and the normalised value.
	VaryNames, VaryValues []string
	// Status is the response's status code.
	Status int
	// Fields are the response's header fields as stored, in order.
	Fields []StoredField
	// Body is the response's body: a subslice of the input.
	Body []byte
	// RequestTime and ResponseTime are when the request that fetched the
	// response was sent and its response received.
	RequestTime, ResponseTime time.Time
}

// StoredField is one header field line of a stored response.
type StoredField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Header returns the stored fields as an http.Header.
func (s StoredInfo) Header() http.Header {
	h := make(http.Header, len(s.Fields))
	for _, f := range s.Fields {
		h[f.Name] = append(h[f.Name], f.Value)
	}
	return h
}

// IsStored reports whether b starts as a value this package writes, a
// response or an index; ParseStored says whether it is whole. It tells a
// tool which format a value it knows nothing else of is in.
func IsStored(b []byte) bool {
	switch {
	case len(b) >= 1+len(storedMagic) && b[0] == recResponse:
		return string(b[1:1+len(storedMagic)]) == storedMagic
	case len(b) >= 9+len(storedMagic) && b[0] == recIndex:
		return string(b[9:9+len(storedMagic)]) == storedMagic
	}
	return false
}

// ParseStored reads a value the cache stored, with no side effects.
// Damaged, truncated or foreign bytes give an error wrapping
// hitbox.ErrCorrupt, exactly when the middleware would find them so, and
// never a panic.
func ParseStored(b []byte) (StoredInfo, error) {
	sr, idx, err := decodeValueInto(b, nil)
	if err != nil {
		return StoredInfo{}, err
	}
	if idx != nil {
		return StoredInfo{Index: true, Epoch: idx.epoch, VaryNames: idx.names}, nil
	}
	info := StoredInfo{
		VaryNames: sr.varyNames, VaryValues: sr.varyValues,
		Status: sr.status, Body: sr.body,
		RequestTime: sr.requestTime, ResponseTime: sr.responseTime,
	}
	for _, f := range sr.fields {
		info.Fields = append(info.Fields, StoredField{Name: f.name, Value: f.value})
	}
	return info, nil
}

// Inspection is what Cache.Inspect found for one URL, in the form the
// proxy's admin listener answers as JSON.
type Inspection struct {
	// URL is the URL inspected and Key its primary cache key.
	URL string `json:"url"`
	Key string `json:"key"`
	// Vary names the request fields that select a variant when the
	// resource varies; there is then an index at Key.
	Vary []string `json:"vary,omitempty"`
	// Variants are the stored responses found: one for a resource that
	// does not vary.
	Variants []Variant `json:"variants"`
	// Note says why some variants may be missing from Variants.
	Note string `json:"note,omitempty"`
}

// Variant is one stored response: what selects it, when it was stored,
// how fresh it is and where it was found.
type Variant struct {
	Key string `json:"key"`
	// VaryValues maps each Vary field to the request value that selected
	// the response: "" for a field absent from the request.
	VaryValues map[string]string `json:"vary_values,omitempty"`
	Status     int               `json:"status"`
	// Stored is when the response was received; Age its current age
	// (RFC 9111 §4.2.3) in seconds; FreshFor the seconds of freshness
	// left, negative once stale.
	Stored   time.Time `json:"stored"`
	Age      int64     `json:"age"`
	FreshFor int64     `json:"fresh_for"`
	// Stale and Expire are the entry's deadlines: fresh until Stale,
	// served stale or revalidated until Expire, then gone.
	Stale  time.Time `json:"stale,omitzero"`
	Expire time.Time `json:"expire,omitzero"`
	// ETag and LastModified are the response's validators.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Tags are the tags the entry was stored with.
	Tags []string `json:"tags,omitempty"`
	// Size is the stored value's length and BodySize the body's.
	Size     int `json:"size"`
	BodySize int `json:"body_size"`
	// Level names the level of the pipeline that answered the read
	// ("tier.memory", say); "" when the pipeline does not say.
	Level string `json:"level,omitempty"`
	// Error is set, and the other fields but Key left zero, when the
	// stored value could not be read.
	Error string `json:"error,omitempty"`
}

// InspectOptions tunes Cache.Inspect.
type InspectOptions struct {
	// Header selects a variant of a varying resource, as a request's
	// fields would. Default none: the variant a request without the Vary
	// fields selects.
	Header http.Header
	// VariantKeys, when set, lists the keys of the stored variants: every
	// key of the backend that starts with prefix. With it Inspect reports
	// every variant of a varying resource, not only the one Header
	// selects. A Redis store's Keys method walks them (the prefix escaped
	// for SCAN MATCH).
	VariantKeys func(ctx context.Context, prefix string) ([]string, error)
}

// Inspect reports what the cache holds for a GET of rawURL (an absolute
// URL, or with IgnoreHost a path alone, as PurgeHandler takes): the
// stored response, or for a varying resource its variants. It reads
// through the whole pipeline, as a request would, so a tier may copy what
// it finds into a faster level, and a damaged value is removed by the
// layer that finds it. Nothing stored is not an error: Variants is empty.
func (c *Cache) Inspect(ctx context.Context, rawURL string, o InspectOptions) (Inspection, error) {
	u, err := c.purgeURLOf(rawURL)
	if err != nil {
		return Inspection{}, err
	}
	in := Inspection{URL: u.String(), Key: c.keyOfURL(u), Variants: []Variant{}}
	now := c.opts.Now()
	v, info, err := c.inspectKey(ctx, in.Key, now)
	if err != nil {
		return in, err
	}
	if v == nil {
		return in, nil
	}
	if !info.Index {
		in.Variants = append(in.Variants, *v)
		return in, nil
	}
	in.Vary = info.VaryNames
	keys := []string{variantKey(in.Key, info.Epoch, varyValues(info.VaryNames, o.Header))}
	if o.VariantKeys != nil {
		prefix := in.Key + "\x00" + strconv.FormatUint(info.Epoch, 16) + "\x00"
		if keys, err = o.VariantKeys(ctx, prefix); err != nil {
			return in, err
		}
	} else {
		in.Note = "only the variant the given header selects: the backend cannot list keys"
	}
	for _, k := range keys {
		v, _, err := c.inspectKey(ctx, k, now)
		if err != nil {
			return in, err
		}
		if v != nil {
			in.Variants = append(in.Variants, *v)
		}
	}
	return in, nil
}

// inspectKey reads key through the pipeline. It returns nil for a miss, a
// Variant with Error set for a value that cannot be read, and an error
// only for a backend failure.
func (c *Cache) inspectKey(ctx context.Context, key string, now time.Time) (*Variant, StoredInfo, error) {
	tctx, ans := hitbox.TrackAnswer(ctx)
	e, tags, err := hitbox.GetTagged(tctx, c.b, key)
	switch {
	case errors.Is(err, hitbox.ErrMiss):
		return nil, StoredInfo{}, nil
	case errors.Is(err, hitbox.ErrCorrupt):
		return &Variant{Key: key, Error: err.Error()}, StoredInfo{}, nil
	case err != nil:
		return nil, StoredInfo{}, err
	}
	info, err := ParseStored(e.Value)
	if err != nil {
		return &Variant{Key: key, Error: err.Error()}, StoredInfo{}, nil
	}
	v := &Variant{Key: key, Stale: e.Stale, Expire: e.Expire, Tags: tags, Size: len(e.Value)}
	if ans.Found() {
		v.Level = ans.Path()
	}
	if info.Index {
		return v, info, nil
	}
	h := info.Header()
	view := c.viewOfHeader(h, info.Status, info.RequestTime, info.ResponseTime, now)
	v.Status = info.Status
	v.Stored = info.ResponseTime
	v.Age = int64(view.age / time.Second)
	v.FreshFor = view.ttl()
	v.ETag = h.Get("Etag")
	v.LastModified = h.Get("Last-Modified")
	v.BodySize = len(info.Body)
	if len(info.VaryNames) > 0 {
		v.VaryValues = make(map[string]string, len(info.VaryNames))
		for i, n := range info.VaryNames {
			if i < len(info.VaryValues) {
				v.VaryValues[n] = info.VaryValues[i]
			}
		}
	}
	return v, info, nil
}
