package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// render writes a report for people: one block per layer, from the
// outside in, then the value.
func (r *report) render(w io.Writer, now time.Time) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-10s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("key", "%s", showKey(r.Key))
	ttl := "no TTL"
	if r.TTLms >= 0 {
		ttl = "TTL " + duration(time.Duration(r.TTLms)*time.Millisecond)
	}
	p("redis", "%s, %d bytes, %s", showKey(r.RedisKey), r.Size, ttl)
	if s := r.Store; s != nil && s.Placeholder {
		p("store", "a lease's placeholder: a load is in flight, nothing is stored yet (reads miss)")
	} else if s != nil {
		kind := "untagged"
		if s.Version == 2 {
			kind = "tagged"
		}
		if s.Leased {
			kind += ", written through a lease"
		}
		p("store", "redisstore format %d (%s)", s.Version, kind)
		renderDeadlines(w, s.deadlines, now)
		for i, t := range s.Tags {
			label := ""
			if i == 0 {
				label = "  tags"
			}
			state := "current"
			if !t.Current {
				state = t.Why
			}
			fmt.Fprintf(w, "%-10s %s (%s)\n", label, t.Tag, state)
		}
	}
	if e := r.Envelope; e != nil {
		sum := "checksum ok"
		if !e.ChecksumOK {
			sum = "CHECKSUM MISMATCH"
		}
		p("envelope", "layer.Encode version %d, %s", e.Version, sum)
		renderDeadlines(w, e.deadlines, now)
	}
	if c := r.Compress; c != nil {
		switch {
		case !c.Compressed:
			p("compress", "layer.Compress: stored as it is (none), %d bytes", c.Restored)
		case c.Name == "":
			p("compress", "layer.Compress: unknown compressor id %d, %d bytes", c.ID, c.Stored)
		case c.Restored == 0 && len(r.Damaged) > 0:
			p("compress", "layer.Compress: %s, %d bytes stored", c.Name, c.Stored)
		default:
			p("compress", "layer.Compress: %s, %d bytes stored, %d restored", c.Name, c.Stored, c.Restored)
		}
	}
	for _, d := range r.Damaged {
		p("DAMAGED", "%s", d)
	}
	if r.Format != "" {
		how := ""
		if r.Guessed {
			how = " (guessed; --format to choose)"
		}
		p("format", "%s%s", r.Format, how)
	}
	if h := r.HTTP; h != nil {
		renderHTTP(w, h)
	}
	if r.Value != nil {
		if s, ok := r.Value.(string); ok {
			fmt.Fprintf(w, "value\n%s\n", indent(s))
		} else if b, err := json.MarshalIndent(r.Value, "", "  "); err == nil {
			fmt.Fprintf(w, "value\n%s\n", indent(string(b)))
		}
	}
	if r.Hex != "" {
		fmt.Fprintf(w, "bytes\n%s\n", indent(r.Hex))
	}
}

func renderDeadlines(w io.Writer, d deadlines, now time.Time) {
	fmt.Fprintf(w, "%-10s %s\n", "  expire", when(d.Expire, now))
	fmt.Fprintf(w, "%-10s %s\n", "  stale", when(d.Stale, now))
	fmt.Fprintf(w, "%-10s %s\n", "  state", stateLine(d))
}

// stateLine says what the deadlines mean now: "fresh for 50s, then stale
// for 10s".
func stateLine(d deadlines) string {
	secs := func(s float64) string { return duration(time.Duration(s * float64(time.Second))) }
	switch d.State {
	case "expired":
		return "expired: no read returns it"
	case "stale":
		if d.StaleFor < 0 {
			return "stale, with no hard deadline"
		}
		return "stale for " + secs(d.StaleFor) + " more, then gone"
	}
	switch {
	case d.FreshFor < 0:
		return "fresh, with no deadline"
	case d.StaleFor < 0:
		return "fresh for " + secs(d.FreshFor) + ", then stale with no hard deadline"
	case d.StaleFor == 0:
		return "fresh for " + secs(d.FreshFor) + ", then gone"
	}
	return "fresh for " + secs(d.FreshFor) + ", then stale for " + secs(d.StaleFor)
}

// when renders a deadline as a time and as a distance from now.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "none"
	}
	d := t.Sub(now)
	rel := "in " + duration(d)
	if d < 0 {
		rel = duration(-d) + " ago"
	}
	return t.UTC().Format(time.RFC3339Nano) + " (" + rel + ")"
}

// duration rounds d for people: to the millisecond under a minute, to the
// second above.
func duration(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func renderHTTP(w io.Writer, h *httpValue) {
	if h.Index {
		fmt.Fprintf(w, "%-10s index of a varying response: varies on %s (epoch %s)\n", "  http",
			strings.Join(h.Vary, ", "), h.Epoch)
		return
	}
	fmt.Fprintf(w, "%-10s HTTP %d, received %s\n", "  http", h.Status, h.Received.UTC().Format(time.RFC3339Nano))
	for _, f := range h.Fields {
		fmt.Fprintf(w, "%-10s %s: %s\n", "", f.Name, f.Value)
	}
	for i, n := range h.Vary {
		v := ""
		if i < len(h.VaryVals) {
			v = h.VaryVals[i]
		}
		what := "(absent)"
		if v != "" {
			what = fmt.Sprintf("%q", strings.TrimPrefix(v, "="))
		}
		fmt.Fprintf(w, "%-10s %s: %s\n", "  vary", n, what)
	}
	fmt.Fprintf(w, "%-10s %d bytes\n", "  body", h.BodySize)
}

// indent indents every line of s by two spaces.
func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
