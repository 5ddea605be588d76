package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// report is everything inspect found in one key's stored bytes, layer by
// layer from the outside in: what Redis holds, the store's header, the
// Encode envelope, the Compress layer, then the value in its format.
// Damaged says which layers could not be read whole, and why; what could
// still be read of them is filled in.
type report struct {
	Key      string         `json:"key"`
	RedisKey string         `json:"redis_key"`
	Size     int            `json:"size"`
	TTLms    int64          `json:"redis_ttl_ms"` // -1: no TTL
	Store    *storeLayer    `json:"store,omitempty"`
	Envelope *envelopeLayer `json:"envelope,omitempty"`
	Compress *compressLayer `json:"compress,omitempty"`
	Format   string         `json:"format,omitempty"`
	Guessed  bool           `json:"format_guessed,omitempty"`
	Value    any            `json:"value,omitempty"`
	HTTP     *httpValue     `json:"http,omitempty"`
	Hex      string         `json:"hex,omitempty"`
	Damaged  []string       `json:"damaged,omitempty"`
}

// storeLayer is redisstore's header.
type storeLayer struct {
	Version     byte `json:"version"`
	Leased      bool `json:"leased,omitempty"`
	Placeholder bool `json:"placeholder,omitempty"`
	deadlines
	Tags []tagState `json:"tags,omitempty"`
}

// tagState is one tag of an entry and whether it still holds.
type tagState struct {
	Tag     string `json:"tag"`
	Version string `json:"version"` // hex, as written with the entry
	Current bool   `json:"current"`
	Why     string `json:"why,omitempty"` // why not current
}

// envelopeLayer is layer.Encode's envelope.
type envelopeLayer struct {
	Version    byte `json:"version"`
	ChecksumOK bool `json:"checksum_ok"`
	deadlines
}

// compressLayer is layer.Compress's header.
type compressLayer struct {
	ID         byte   `json:"id"`
	Name       string `json:"name"`
	Stored     int    `json:"stored"`
	Restored   int    `json:"restored"`
	Compressed bool   `json:"compressed"` // false: stored as it is
}

// deadlines are an entry's deadlines with what they mean at now.
type deadlines struct {
	Expire time.Time `json:"expire,omitzero"`
	Stale  time.Time `json:"stale,omitzero"`
	State  string    `json:"state"` // fresh, stale, expired
	// FreshFor and StaleFor are seconds: FreshFor of freshness left,
	// StaleFor of the stale window left after it (or from now, when
	// stale); -1 without a deadline.
	FreshFor float64 `json:"fresh_for_s"`
	StaleFor float64 `json:"stale_for_s"`
}

func deadlinesAt(expire, stale, now time.Time) deadlines {
	d := deadlines{Expire: expire, Stale: stale, FreshFor: -1, StaleFor: -1}
	if stale.IsZero() || !expire.IsZero() && stale.After(expire) {
		stale = expire // no soft deadline: fresh until Expire
	}
	secs := func(x time.Duration) float64 { return x.Round(time.Millisecond).Seconds() }
	switch {
	case !expire.IsZero() && !now.Before(expire):
		d.State, d.FreshFor, d.StaleFor = "expired", 0, 0
	case !stale.IsZero() && !now.Before(stale):
		d.State, d.FreshFor = "stale", 0
		if !expire.IsZero() {
			d.StaleFor = secs(expire.Sub(now))
		}
	default:
		d.State = "fresh"
		if !stale.IsZero() {
			d.FreshFor = secs(stale.Sub(now))
			if !expire.IsZero() {
				d.StaleFor = secs(expire.Sub(stale))
			}
		}
	}
	return d
}

// httpValue is a stored HTTP response, or the index of its variants.
type httpValue struct {
	Index     bool                    `json:"index,omitempty"`
	Epoch     string                  `json:"epoch,omitempty"`
	Vary      []string                `json:"vary,omitempty"`
	VaryVals  []string                `json:"vary_values,omitempty"`
	Status    int                     `json:"status,omitempty"`
	Fields    []httpcache.StoredField `json:"fields,omitempty"`
	BodySize  int                     `json:"body_size"`
	Requested time.Time               `json:"requested,omitzero"`
	Received  time.Time               `json:"received,omitzero"`
}

// describe reads raw, the bytes under redisKey, layer by layer. format is
// the --format flag ("auto" guesses); versions holds the current version
// of each of the entry's tags (none for a tag without). It never fails:
// what cannot be read is reported as damaged.
func describe(key, redisKey string, raw []byte, ttl time.Duration, now time.Time, format string, versions map[string][]byte) *report {
	r := &report{Key: key, RedisKey: redisKey, Size: len(raw), TTLms: -1}
	if ttl >= 0 {
		r.TTLms = ttl.Milliseconds()
	}
	st, err := redisstore.ParseStored(raw)
	if st.Version != 0 {
		r.Store = &storeLayer{Version: st.Version, Leased: st.Leased, Placeholder: st.Placeholder,
			deadlines: deadlinesAt(st.Expire, st.Stale, now)}
	}
	if st.Placeholder {
		return r
	}
	if err != nil {
		r.Damaged = append(r.Damaged, "store: "+err.Error())
		r.Hex = hexDump(raw)
		return r
	}
	for _, t := range st.Tags {
		ts := tagState{Tag: t.Tag, Version: hex.EncodeToString(t.Version)}
		switch cur, ok := versions[t.Tag]; {
		case !ok || cur == nil:
			ts.Why = "purged: its version is gone"
		case string(cur) != string(t.Version):
			ts.Why = "purged: its version changed"
		default:
			ts.Current = true
		}
		r.Store.Tags = append(r.Store.Tags, ts)
	}
	v := st.Value
	if layer.IsEnvelope(v) {
		env, err := layer.DecodeEnvelope(v)
		r.Envelope = &envelopeLayer{Version: env.Version, ChecksumOK: env.ChecksumOK, deadlines: deadlinesAt(env.Expire, env.Stale, now)}
		if err != nil {
			r.Damaged = append(r.Damaged, "envelope: "+err.Error())
			if env.Value == nil {
				r.Hex = hexDump(v)
				return r
			}
		}
		v = env.Value
	}
	if len(v) > 1 && v[0] <= 3 {
		c, err := layer.DecodeCompressed(v, 0)
		r.Compress = &compressLayer{ID: c.ID, Name: c.Name, Stored: c.Stored, Restored: len(c.Value), Compressed: c.ID != 0}
		if err != nil {
			r.Damaged = append(r.Damaged, "compress: "+err.Error())
			r.Hex = hexDump(v)
			return r
		}
		v = c.Value
	}
	r.value(v, format)
	return r
}

// value renders the value in the named format, or the first format that
// reads it whole for "auto".
func (r *report) value(v []byte, format string) {
	try := []string{format}
	if format == "auto" {
		r.Guessed = true
		try = []string{"http", "json", "text", "cbor", "msgpack"}
	}
	var firstErr error
	for _, f := range try {
		err := r.valueAs(v, f, format == "auto")
		if err == nil {
			r.Format = f
			if f == "text" {
				r.Format = "raw"
			}
			return
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if format == "auto" {
		r.Format = "unknown"
		r.Hex = hexDump(v)
		return
	}
	r.Format = format
	r.Damaged = append(r.Damaged, format+": "+firstErr.Error())
	r.Hex = hexDump(v)
}

// errNotThis says a guess does not fit.
var errNotThis = errors.New("not this format")

// valueAs renders v as format f; guessing, it refuses what only looks
// like f by accident.
func (r *report) valueAs(v []byte, f string, guessing bool) error {
	switch f {
	case "http":
		if guessing && !httpcache.IsStored(v) {
			return errNotThis
		}
		info, err := httpcache.ParseStored(v)
		if err != nil {
			return err
		}
		h := &httpValue{Index: info.Index, Vary: info.VaryNames}
		if info.Index {
			h.Epoch = fmt.Sprintf("%x", info.Epoch)
		} else {
			h.VaryVals, h.Status, h.Fields, h.BodySize = info.VaryValues, info.Status, info.Fields, len(info.Body)
			h.Requested, h.Received = info.RequestTime, info.ResponseTime
		}
		r.HTTP = h
		return nil
	case "text", "raw":
		if !printable(v) {
			if guessing {
				return errNotThis
			}
			r.Hex = hexDump(v)
			return nil
		}
		r.Value = string(v)
		return nil
	}
	fm, ok := codec.FormatByName(f)
	if !ok {
		return fmt.Errorf("unknown format %q", f)
	}
	x, err := codec.DecodeAny(fm, v)
	if err != nil {
		if errors.Is(err, codec.ErrNoGeneric) {
			r.Hex = hexDump(v)
			return nil
		}
		return err
	}
	if _, err := json.Marshal(x); err != nil {
		return err
	}
	r.Value = x
	return nil
}

// printable reports whether b is UTF-8 text with no control characters
// but spaces.
func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range string(b) {
		if !unicode.IsPrint(c) && !unicode.IsSpace(c) {
			return false
		}
	}
	return true
}

// hexDumpMax is how many bytes a report shows in hex.
const hexDumpMax = 256

// hexDump renders up to hexDumpMax bytes of b as hex, 16 to a line.
func hexDump(b []byte) string {
	more := len(b) > hexDumpMax
	if more {
		b = b[:hexDumpMax]
	}
	var s strings.Builder
	for i := 0; i < len(b); i += 16 {
		if i > 0 {
			s.WriteByte('\n')
		}
		fmt.Fprintf(&s, "%04x  % x", i, b[i:min(i+16, len(b))])
	}
	if more {
		s.WriteString("\n...")
	}
	return s.String()
}
