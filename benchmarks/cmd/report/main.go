// Command report runs every workload of the benchmarks module against a
// redis-server of its own and writes BENCHMARKS.md: the machine, a table
// per workload (medians of several runs, with their spread, and ratios to
// the floor and to hitbox) and a PNG chart per workload under charts/.
//
// Run it from the benchmarks folder:
//
//	go run ./cmd/report             # the full run (the report records how long it took)
//	go run ./cmd/report -quick      # a smoke test: tiny benchtime, one run
//	go run ./cmd/report -only 'Typed|Stampede' -o /tmp/b.md
//
// The raw `go test -bench` output goes beside the report (BENCHMARKS.txt),
// so benchstat can read it too.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "BENCHMARKS.md", "the report to write; charts go to charts/ beside it, the raw output to the same name with .txt")
	quick := flag.Bool("quick", false, "smoke test: every workload once with a tiny benchtime (the figures mean nothing)")
	only := flag.String("only", "", "run only the workloads whose name matches this regular expression")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *quick, *only); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, quick bool, only string) error {
	var filter *regexp.Regexp
	if only != "" {
		var err error
		if filter, err = regexp.Compile(only); err != nil {
			return fmt.Errorf("-only: %w", err)
		}
	}
	if err := checkModule(); err != nil {
		return err
	}
	started := time.Now()
	tmp, err := os.MkdirTemp("", "hitbox-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	m := describeMachine(quick)
	srv, err := startRedis(ctx, filepath.Join(tmp, "redis"))
	if err != nil {
		return err
	}
	defer srv.stop()
	m.Redis = redisVersion()
	logf("redis-server %s on %s", m.Redis, srv.addr)

	bin := filepath.Join(tmp, "benchmarks.test")
	logf("building the benchmarks")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go test -c: %w", err)
	}

	rawPath := strings.TrimSuffix(out, filepath.Ext(out)) + ".txt"
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	raw, err := os.Create(rawPath)
	if err != nil {
		return err
	}
	defer raw.Close()

	var outs []*outcome
	for _, w := range workloads {
		if quick {
			w.Count, w.Benchtime = 1, w.Quick
		}
		if filter != nil && !filter.MatchString(w.Name) {
			outs = append(outs, &outcome{W: w, Status: "not run: left out by -only"})
			continue
		}
		o, err := runWorkload(ctx, bin, srv.addr, w, raw)
		if err != nil {
			return err
		}
		outs = append(outs, o)
	}
	m.Took = time.Since(started)
	m.Load += ", " + loadAverage()

	charts := make(map[string][]chartRef)
	n := 0
	dir := filepath.Dir(out)
	for _, o := range outs {
		if o.Status != "" {
			continue
		}
		rel := chartPath(o.W)
		file := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		ok, err := chart(o, file)
		if err != nil {
			return fmt.Errorf("chart of %s: %w", o.W.Name, err)
		}
		if ok {
			charts[o.W.Name] = append(charts[o.W.Name], chartRef{Title: o.W.Title, Path: rel})
		}
		more, err := sizeCharts(o, dir)
		if err != nil {
			return fmt.Errorf("size charts of %s: %w", o.W.Name, err)
		}
		charts[o.W.Name] = append(charts[o.W.Name], more...)
		n += len(charts[o.W.Name])
	}
	var buf bytes.Buffer
	if err := render(&buf, m, outs, charts); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	logf("wrote %s, %s and %d charts in %s", out, rawPath, n, m.Took.Round(time.Second))
	return nil
}

// runWorkload runs one workload's benchmarks, copying the output to raw
// and the terminal, and parses it.
func runWorkload(ctx context.Context, bin, redisAddr string, w workload, raw io.Writer) (*outcome, error) {
	logf("%s: -count %d -benchtime %s", w.Name, w.Count, w.Benchtime)
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, bin,
		"-test.run=^$",
		"-test.bench=^Benchmark"+w.Name+"$",
		"-test.count="+strconv.Itoa(w.Count),
		"-test.benchtime="+w.Benchtime,
		"-test.benchmem",
		"-test.v",
		"-test.timeout=20m", // a hung workload fails rather than stalls the report
	)
	cmd.Env = append(os.Environ(), "HITBOX_BENCH_REDIS="+redisAddr)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, raw, progress{})
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	o, perr := parse(buf.Bytes(), w)
	if perr != nil {
		return nil, fmt.Errorf("%s: %w", w.Name, perr)
	}
	if err != nil && len(o.Cells) == 0 {
		o.Status = "failed: " + lastLines(buf.String(), 3)
	}
	logf("%s: done in %s", w.Name, time.Since(t0).Round(time.Second))
	return o, nil
}

// progress shows the result lines on the terminal as they come, and
// nothing of the rest.
type progress struct{}

func (progress) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if strings.Contains(line, "ns/op") || strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "panic:") {
			fmt.Fprintln(os.Stderr, "  "+line)
		}
	}
	return len(p), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "report: "+format+"\n", args...)
}

// checkModule makes sure the command runs in the benchmarks folder.
func checkModule() error {
	b, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(b, []byte("module github.com/hitbox-go/hitbox/benchmarks\n")) {
		return errors.New("run me from the benchmarks folder: go run ./cmd/report")
	}
	return nil
}

// --- the machine ------------------------------------------------------------------

func describeMachine(quick bool) machine {
	m := machine{
		CPU:   cpuModel(),
		Cores: strconv.Itoa(runtime.NumCPU()),
		Go:    goVersion(),
		OS:    runtime.GOOS + "/" + runtime.GOARCH,
		Date:  time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Load:  loadAverage(),
		Mode:  "full",
	}
	if quick {
		m.Mode = "quick: a smoke test, one short run per workload; the figures mean nothing"
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(rel))
	}
	if c, err := exec.Command("git", "log", "-1", "--format=%h %s").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(c))
		if d, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(d)) > 0 {
			m.Commit += " (with uncommitted changes)"
		}
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func goVersion() string {
	b, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(b))
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// --- redis-server ----------------------------------------------------------------

type redisServer struct {
	addr   string
	cmd    *exec.Cmd
	exited <-chan struct{}
}

// startRedis runs redis-server on a free loopback port, without
// persistence, and waits until it answers PING.
func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed (apt-get install redis-server, or brew install redis)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.CommandContext(ctx, bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", dir, "--loglevel", "warning")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if err := waitPing(addr, exited); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("redis-server on %s: %w: %s", addr, err, strings.TrimSpace(log.String()))
			continue
		}
		return &redisServer{addr: addr, cmd: cmd, exited: exited}, nil
	}
	return nil, lastErr
}

func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPing waits up to 10 s for the server at addr to answer PING.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no answer to PING in 10s")
}

func redisVersion() string {
	b, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(string(b))
}
