package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// stats is what the stats command reports.
type stats struct {
	Redis       string            `json:"redis"`
	UsedMemory  int64             `json:"used_memory"` // bytes, over every master
	Prefix      string            `json:"prefix"`
	Keys        int               `json:"keys"`
	ValueBytes  int64             `json:"value_bytes"`
	TagVersions map[string]string `json:"tag_versions"` // tag → version, hex
	Proxy       *proxyStats       `json:"proxy,omitempty"`
}

// proxyStats is what the proxy's admin listener answers on /cache/stats:
// requests by Cache-Status result and by the level that answered.
type proxyStats struct {
	Requests int64            `json:"requests"`
	Results  map[string]int64 `json:"results"`
	Levels   map[string]int64 `json:"levels"`
}

// maxTagsShown bounds the tag versions stats prints; --json has them all.
const maxTagsShown = 20

func runStats(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 {
		return usagef("stats takes no arguments")
	}
	var s stats
	if c.opt.redis != "" || c.opt.proxy == "" {
		cn, err := c.connect(ctx)
		if err != nil {
			return err
		}
		defer cn.Close()
		s.Redis, s.Prefix = cn.describe, cn.prefix
		var mu sync.Mutex
		err = eachServer(ctx, cn.rdb, func(ctx context.Context, node *redis.Client) error {
			info, err := node.Info(ctx, "memory").Result()
			if err != nil {
				return err
			}
			n := infoInt(info, "used_memory")
			mu.Lock()
			s.UsedMemory += n
			mu.Unlock()
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading INFO memory: %w", err)
		}
		var keys []string
		if err := cn.store.Keys(ctx, "", func(k string) error { keys = append(keys, k); return nil }); err != nil {
			return err
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		s.Keys = len(keys)
		lens := make([]*redis.IntCmd, len(keys))
		if _, err := cn.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				lens[i] = p.StrLen(ctx, cn.prefix+k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, l := range lens {
			s.ValueBytes += l.Val()
		}
		var tags []string
		if err := cn.store.Tags(ctx, func(t string) error { tags = append(tags, t); return nil }); err != nil {
			return err
		}
		s.TagVersions = make(map[string]string, len(tags))
		for _, t := range tags {
			v, err := cn.rdb.Get(ctx, redisstore.TagVersionKey(cn.prefix, t)).Bytes()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			s.TagVersions[t] = hex.EncodeToString(v)
		}
	}
	if c.opt.proxy != "" {
		var ps proxyStats
		if err := c.proxyGet(ctx, "/cache/stats", nil, &ps); err != nil {
			return err
		}
		s.Proxy = &ps
	}
	if c.opt.json {
		return writeJSON(c, s)
	}
	w := c.stdout
	if s.Redis != "" {
		fmt.Fprintf(w, "%-10s %s, %s used\n", "redis", s.Redis, bytesString(s.UsedMemory))
		fmt.Fprintf(w, "%-10s %q: %d keys, %s of values\n", "prefix", s.Prefix, s.Keys, bytesString(s.ValueBytes))
		tags := make([]string, 0, len(s.TagVersions))
		for t := range s.TagVersions {
			tags = append(tags, t)
		}
		slices.Sort(tags)
		fmt.Fprintf(w, "%-10s %d tag versions\n", "tags", len(tags))
		for i, t := range tags {
			if i == maxTagsShown {
				fmt.Fprintf(w, "%-10s ... and %d more (--json lists them all)\n", "", len(tags)-i)
				break
			}
			fmt.Fprintf(w, "%-10s %s  %s\n", "", s.TagVersions[t], showKey(t))
		}
	}
	if p := s.Proxy; p != nil {
		fmt.Fprintf(w, "%-10s %d requests since it started\n", "proxy", p.Requests)
		fmt.Fprintf(w, "%-10s %s\n", "  results", counts(p.Results))
		fmt.Fprintf(w, "%-10s %s\n", "  levels", counts(p.Levels))
	}
	return nil
}

// counts renders a count map, largest first.
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}

// infoInt reads an integer field of an INFO reply.
func infoInt(info, field string) int64 {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// inspectProxy prints what the proxy's admin listener holds for a URL.
func (c *cli) inspectProxy(ctx context.Context, u string) error {
	var in httpcache.Inspection
	if err := c.proxyGet(ctx, "/cache", url.Values{"url": {u}}, &in); err != nil {
		return err
	}
	if c.opt.json {
		return writeJSON(c, in)
	}
	w := c.stdout
	fmt.Fprintf(w, "%-10s %s\n", "url", in.URL)
	fmt.Fprintf(w, "%-10s %s\n", "key", showKey(in.Key))
	if len(in.Vary) > 0 {
		fmt.Fprintf(w, "%-10s %s\n", "vary", strings.Join(in.Vary, ", "))
	}
	if len(in.Variants) == 0 {
		fmt.Fprintln(w, "nothing stored")
	}
	for i, v := range in.Variants {
		fmt.Fprintf(w, "variant %d  %s\n", i+1, showKey(v.Key))
		if v.Error != "" {
			fmt.Fprintf(w, "%-10s %s\n", "  DAMAGED", v.Error)
			continue
		}
		names := make([]string, 0, len(v.VaryValues))
		for n := range v.VaryValues {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			val := "(absent)"
			if x := v.VaryValues[n]; x != "" {
				val = strconv.Quote(strings.TrimPrefix(x, "="))
			}
			fmt.Fprintf(w, "%-10s %s: %s\n", "  vary", n, val)
		}
		fmt.Fprintf(w, "%-10s %d, %d-byte body, %d bytes stored\n", "  status", v.Status, v.BodySize, v.Size)
		fmt.Fprintf(w, "%-10s %s\n", "  stored", v.Stored.UTC().Format(time.RFC3339))
		fresh := fmt.Sprintf("fresh for %ds more", v.FreshFor)
		if v.FreshFor < 0 {
			fresh = fmt.Sprintf("stale by %ds", -v.FreshFor)
		}
		fmt.Fprintf(w, "%-10s %ds, %s\n", "  age", v.Age, fresh)
		if !v.Expire.IsZero() {
			// The deadline of the copy that answered: a faster level may
			// keep its copy for less time than the level below.
			copyOf := ""
			if v.Level != "" {
				copyOf = " (the copy in " + v.Level + ")"
			}
			fmt.Fprintf(w, "%-10s %s%s\n", "  gone at", v.Expire.UTC().Format(time.RFC3339), copyOf)
		}
		if v.ETag != "" || v.LastModified != "" {
			fmt.Fprintf(w, "%-10s etag %s, last-modified %s\n", "  valid.", orNone(v.ETag), orNone(v.LastModified))
		}
		if len(v.Tags) > 0 {
			fmt.Fprintf(w, "%-10s %s\n", "  tags", strings.Join(v.Tags, " "))
		}
		level := v.Level
		if level == "" {
			level = "(the pipeline does not say)"
		}
		fmt.Fprintf(w, "%-10s %s\n", "  level", level)
	}
	if in.Note != "" {
		fmt.Fprintf(w, "note: %s\n", in.Note)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// proxyGet asks the proxy's admin listener for path and decodes its JSON
// answer into v.
func (c *cli) proxyGet(ctx context.Context, path string, q url.Values, v any) error {
	base := c.opt.proxy
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + path)
	if err != nil {
		return usagef("--proxy %q: %v", c.opt.proxy, err)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if c.opt.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opt.token)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("the proxy's admin listener at %s is unreachable: %w", c.opt.proxy, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return errors.New("the proxy refused the admin token: give --token or set $HITBOX_ADMIN_TOKEN")
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("the proxy answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the proxy's answer is not what hitbox reads: %w", err)
	}
	return nil
}
