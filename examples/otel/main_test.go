package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer collects the spans the server prints from its handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServer starts the example on a free loopback port, reads users
// through the cache, scrapes /metrics, and checks the metric names and
// attributes the Prometheus exporter shows, then the spans printed.
func TestServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var traces lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, &traces) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{}
	defer client.CloseIdleConnections()

	for _, c := range []struct {
		path   string
		status int
		name   string
	}{
		{"/users/1", http.StatusOK, "Ada"},   // a miss, loaded and stored
		{"/users/1", http.StatusOK, "Ada"},   // a hit
		{"/users/2", http.StatusOK, "Grace"}, // a miss
		{"/users/9", http.StatusNotFound, ""},
	} {
		body, status := fetch(t, client, base+c.path)
		if status != c.status {
			t.Fatalf("GET %s: status %d, want %d", c.path, status, c.status)
		}
		var u User
		if c.name != "" && (json.Unmarshal(body, &u) != nil || u.Name != c.name) {
			t.Errorf("GET %s: %s, want %s", c.path, body, c.name)
		}
	}

	body, status := fetch(t, client, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	ops := []struct {
		op, result string
		want       float64
	}{
		{"get", "hit", 1},
		{"get", "miss", 3},
		{"set", "ok", 2},
	}
	for _, o := range ops {
		labels := map[string]string{"hitbox_backend": "memory", "hitbox_operation": o.op, "hitbox_result": o.result}
		if got := value(t, families, "hitbox_operations_total", labels); got != o.want {
			t.Errorf("hitbox_operations_total%v = %v, want %v", labels, got, o.want)
		}
		if got := value(t, families, "hitbox_operation_duration_seconds", labels); got != o.want {
			t.Errorf("hitbox_operation_duration_seconds%v count = %v, want %v", labels, got, o.want)
		}
	}
	// {"id":1,"name":"Ada"} is 21 bytes as JSON, {"id":2,"name":"Grace"} 23.
	ioBytes := map[string]float64{"read": 21, "write": 44}
	for dir, want := range ioBytes {
		op := map[string]string{"read": "get", "write": "set"}[dir]
		labels := map[string]string{"hitbox_backend": "memory", "hitbox_operation": op, "hitbox_io_direction": dir}
		if got := value(t, families, "hitbox_io_bytes_total", labels); got != want {
			t.Errorf("hitbox_io_bytes_total%v = %v, want %v", labels, got, want)
		}
	}
	if got := value(t, families, "hitbox_entries", map[string]string{"hitbox_backend": "memory"}); got != 2 {
		t.Errorf("hitbox_entries = %v, want 2", got)
	}
	if _, ok := families["hitbox_memory_allocated_bytes"]; !ok {
		t.Error("hitbox_memory_allocated_bytes missing")
	}
	for name := range families {
		if strings.Contains(name, "user") {
			t.Errorf("metric %s names a key", name)
		}
	}
	if strings.Contains(string(body), "users:") {
		t.Error("/metrics holds a key")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	// Each request printed its own span with the cache's spans under it.
	spans := map[string]int{}
	parents := map[string]string{} // span ID -> name
	type span struct {
		Name        string
		SpanContext struct{ SpanID string }
		Parent      struct{ SpanID string }
	}
	var printed []span
	dec := json.NewDecoder(strings.NewReader(traces.String()))
	for {
		var s span
		if err := dec.Decode(&s); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		spans[s.Name]++
		parents[s.SpanContext.SpanID] = s.Name
		printed = append(printed, s)
	}
	want := map[string]int{"GET /users/{id}": 4, "hitbox.get": 4, "hitbox.set": 2}
	for name, n := range want {
		if spans[name] != n {
			t.Errorf("%d %q spans, want %d (all: %v)", spans[name], name, n, spans)
		}
	}
	for _, s := range printed {
		if strings.HasPrefix(s.Name, "hitbox.") && parents[s.Parent.SpanID] != "GET /users/{id}" {
			t.Errorf("%s span's parent is %q, want the request span", s.Name, parents[s.Parent.SpanID])
		}
	}
	if strings.Contains(traces.String(), "users:") {
		t.Error("a span holds a key")
	}
}

func fetch(t *testing.T, c *http.Client, url string) ([]byte, int) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, resp.StatusCode
}

// value returns the value of the series of family name whose labels
// include want: a counter's or gauge's value, a histogram's count.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Errorf("metric %s missing", name)
		return -1
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Errorf("%s has no series with %v", name, want)
	return -1
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return len(have) == len(want)+3 // and the exporter's otel_scope_name, _version, _schema_url
}
