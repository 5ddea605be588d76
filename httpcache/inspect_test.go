package httpcache

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// keyLog is a map store that remembers the keys written (by every write
// path httpcache uses), so a test can list them as a Redis store's Keys
// would.
type keyLog struct {
	*mapstore.Store
	mu   sync.Mutex
	keys []string
}

func (k *keyLog) note(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !slices.Contains(k.keys, key) {
		k.keys = append(k.keys, key)
	}
}

func (k *keyLog) Set(ctx context.Context, key string, e hitbox.Entry) error {
	k.note(key)
	return k.Store.Set(ctx, key, e)
}

func (k *keyLog) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	k.note(key)
	return k.Store.SetTagged(ctx, key, e, tags)
}

func (k *keyLog) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	k.note(key)
	return k.Store.SetLeased(ctx, key, e, tags, l)
}

func (k *keyLog) under(_ context.Context, prefix string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, key := range k.keys {
		if strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out, nil
}

func TestInspect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := hitboxtest.NewClock(t0)
	log := &keyLog{Store: mapstore.New(mapstore.Options{Now: clock.Now})}
	h := newHarnessOver(t, Options{}, clock, log)

	h.origin.set(200, "Cache-Control: max-age=100", "ETag: \"v1\"", "Surrogate-Key: docs page-1")
	h.get("/page")
	h.origin.set(200, "Cache-Control: max-age=60", "Vary: Accept-Encoding")
	h.get("/varied", "Accept-Encoding: gzip")
	h.get("/varied")
	clock.Advance(30 * time.Second)
	if err := log.Store.Set(ctx, "http:v0:u=http%3A//example.com/broken", hitbox.Entry{Value: []byte("Rhb?")}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name     string
		url      string
		opts     InspectOptions
		variants int
		check    func(t *testing.T, in Inspection)
	}{
		{"a stored response reports its age, freshness, validators, tags and size", "http://example.com/page", InspectOptions{}, 1, func(t *testing.T, in Inspection) {
			v := in.Variants[0]
			if v.Status != 200 || v.Age != 30 || v.FreshFor != 70 || v.ETag != `"v1"` || v.BodySize != len("body 1") {
				t.Errorf("variant %+v", v)
			}
			if !slices.Equal(v.Tags, []string{"docs", "page-1"}) || v.Size <= v.BodySize || !v.Stored.Equal(t0) {
				t.Errorf("tags %q size %d stored %v", v.Tags, v.Size, v.Stored)
			}
		}},
		{"nothing stored is no variant and no error", "http://example.com/absent", InspectOptions{}, 0, nil},
		{"a varying resource without a key lister reports the variant the header selects", "http://example.com/varied",
			InspectOptions{Header: http.Header{"Accept-Encoding": {"gzip"}}}, 1, func(t *testing.T, in Inspection) {
				if !slices.Equal(in.Vary, []string{"accept-encoding"}) || in.Note == "" {
					t.Errorf("vary %q note %q", in.Vary, in.Note)
				}
				if got := in.Variants[0].VaryValues["accept-encoding"]; got != "=gzip" {
					t.Errorf("vary value %q", got)
				}
			}},
		{"a varying resource with a key lister reports every variant", "http://example.com/varied",
			InspectOptions{VariantKeys: log.under}, 2, func(t *testing.T, in Inspection) {
				var vals []string
				for _, v := range in.Variants {
					vals = append(vals, v.VaryValues["accept-encoding"])
				}
				slices.Sort(vals)
				if !slices.Equal(vals, []string{"", "=gzip"}) || in.Note != "" {
					t.Errorf("vary values %q note %q", vals, in.Note)
				}
			}},
		{"a damaged value is reported as one, not as an error", "http://example.com/broken", InspectOptions{}, 1, func(t *testing.T, in Inspection) {
			if in.Variants[0].Error == "" {
				t.Errorf("variant %+v has no error", in.Variants[0])
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := h.cache.Inspect(ctx, tc.url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Variants) != tc.variants {
				t.Fatalf("%d variants, want %d: %+v", len(in.Variants), tc.variants, in)
			}
			if tc.check != nil {
				tc.check(t, in)
			}
		})
	}
	if _, err := h.cache.Inspect(ctx, "not a url", InspectOptions{}); err == nil {
		t.Error("a relative URL was inspected")
	}
}

func TestParseStored(t *testing.T) {
	t.Parallel()
	sr := &storedResponse{status: 203, fields: []field{{"Content-Type", "text/plain"}, {"Etag", `"x"`}}, body: []byte("hello"),
		requestTime: t0, responseTime: t0.Add(time.Second), varyNames: []string{"accept"}, varyValues: []string{"=text/html"}}
	resp := appendResponse(nil, sr)
	idx := appendIndex(nil, indexRecord{names: []string{"accept"}, epoch: 0xabc})
	cases := []struct {
		name    string
		b       []byte
		wantErr bool
		check   func(StoredInfo) bool
	}{
		{"a response reads whole", resp, false, func(s StoredInfo) bool {
			return !s.Index && s.Status == 203 && len(s.Fields) == 2 && string(s.Body) == "hello" &&
				s.ResponseTime.Equal(t0.Add(time.Second)) && s.Header().Get("Etag") == `"x"` && s.VaryValues[0] == "=text/html"
		}},
		{"an index reads with its epoch", idx, false, func(s StoredInfo) bool { return s.Index && s.Epoch == 0xabc && s.VaryNames[0] == "accept" }},
		{"a truncated response is damaged", resp[:len(resp)-3], true, nil},
		{"foreign bytes are damaged", []byte("{}"), true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if IsStored(tc.b) == (tc.name == "foreign bytes are damaged") {
				t.Errorf("IsStored = %v", !IsStored(tc.b))
			}
			s, err := ParseStored(tc.b)
			if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(s) {
				t.Errorf("read %+v", s)
			}
		})
	}
}

// FuzzParseStored checks that ParseStored never panics and accepts
// exactly what the middleware's reader accepts.
func FuzzParseStored(f *testing.F) {
	f.Add(appendResponse(nil, &storedResponse{status: 200, fields: []field{{"A", "b"}}, body: []byte("x")}))
	f.Add(appendIndex(nil, indexRecord{names: []string{"accept"}, epoch: 1}))
	f.Add([]byte("Rhb"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseStored(b)
		_, _, derr := decodeValueInto(b, nil)
		if (err == nil) != (derr == nil) {
			t.Fatalf("ParseStored: %v; reader: %v", err, derr)
		}
		if err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
	})
}
