package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// cacheMiB is every server's cache size.
const cacheMiB = 256

// peer is one caching proxy the harness knows how to start.
type peer struct {
	name      string
	label     string // the report's name for it when not name
	available func() string
	start     func(ctx context.Context, a startArgs) (*server, error)
}

type startArgs struct {
	dir, origin, root string
	lastModified      string   // the origin's, for the ceiling server
	conns             int      // the load generator's connections
	extra             []string // examples/proxy only
}

// server is a running proxy.
type server struct {
	name, addr, version string
	label               string // the report's name for it when not name
	pid                 int
	cmd                 *exec.Cmd
	notes               []string
	logPath             string
}

// stop sends SIGTERM to the server's process group and waits for it, then
// SIGKILL after a few seconds.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func lookBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

func installedCheck(bin, pkg string) func() string {
	return func() string {
		if lookBinary(bin) == "" {
			return "not installed (" + bin + " not found; apt-get install " + pkg + ")"
		}
		return ""
	}
}

var peers = []peer{
	{name: "hitbox", available: func() string { return "" }, start: startHitbox},
	{name: "varnish", available: installedCheck("varnishd", "varnish"), start: startVarnish},
	{name: "nginx", available: installedCheck("nginx", "nginx"), start: startNginx},
	{name: "trafficserver", available: installedCheck("traffic_server", "trafficserver"), start: startATS},
	{name: "squid", available: installedCheck("squid", "squid"), start: startSquid},
	{name: "ceiling", label: ceilingLabel, available: func() string { return "" }, start: startCeiling},
	{name: "hitbox-1p", label: oneProcLabel, available: func() string { return "" }, start: startHitboxOneProc},
}

// oneProcLabel is the row of hitbox run with GOMAXPROCS=1: the same proxy,
// its goroutines run by one processor of the Go scheduler, where the
// runtime's default gives it one per core.
const oneProcLabel = "hitbox, GOMAXPROCS=1"

// display is the server's name in the report.
func (s *server) display() string {
	if s.label != "" {
		return s.label
	}
	return s.name
}

// freePort returns a loopback address nobody listens on at the moment.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// launch starts cmd in a process group of its own, its output to a log
// file in dir, and waits until addr answers GET /1k with a 200.
func launch(ctx context.Context, name, dir, addr, version string, cmd *exec.Cmd) (*server, error) {
	logPath := filepath.Join(dir, name+".out")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	lf.Close()
	s := &server{name: name, addr: addr, version: version, pid: cmd.Process.Pid, cmd: cmd, logPath: logPath}
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	for {
		if err := ctx.Err(); err != nil {
			s.stop()
			return nil, err
		}
		if processGone(s.pid) {
			s.stop()
			return nil, fmt.Errorf("exited: %s", tail(logPath))
		}
		resp, err := client.Get("http://" + addr + "/1k")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("not answering on %s after 60s (last: %v): %s", addr, err, tail(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processGone reports a process that exited or is a zombie.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = s[len(s)-600:]
	}
	return s
}

func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			return l
		}
	}
	return ""
}

func startHitbox(ctx context.Context, a startArgs) (*server, error) {
	return launchHitbox(ctx, a, "hitbox", os.Environ())
}

// startHitboxOneProc starts hitbox with GOMAXPROCS=1 (see oneProcLabel).
func startHitboxOneProc(ctx context.Context, a startArgs) (*server, error) {
	s, err := launchHitbox(ctx, a, "hitbox-1p", append(os.Environ(), "GOMAXPROCS=1"))
	if s != nil {
		s.label, s.version = oneProcLabel, s.version+", GOMAXPROCS=1"
	}
	return s, err
}

// launchHitbox builds examples/proxy (once per run) and starts it as name
// with the environment env.
func launchHitbox(ctx context.Context, a startArgs, name string, env []string) (*server, error) {
	bin := filepath.Join(a.dir, "proxy")
	if _, err := os.Stat(bin); err != nil {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/proxy")
		build.Dir = a.root
		build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./examples/proxy: %v: %s", err, out)
		}
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-origin", "http://" + a.origin, "-listen", addr, "-memory", fmt.Sprintf("%dMiB", cacheMiB), "-quiet"}, a.extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return launch(ctx, name, a.dir, addr, "examples/proxy "+strings.Join(a.extra, " "), cmd)
}

func startVarnish(ctx context.Context, a startArgs) (*server, error) {
	bin := lookBinary("varnishd")
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	vcl := filepath.Join(a.dir, "default.vcl")
	host, port, _ := net.SplitHostPort(a.origin)
	if err := os.WriteFile(vcl, []byte(fmt.Sprintf("vcl 4.1;\nbackend default { .host = %q; .port = %q; }\n", host, port)), 0o644); err != nil {
		return nil, err
	}
	// -F: foreground; -j none: no jail (it would switch users); the shared
	// memory log is Varnish's own and always on; no varnishncsa runs, so
	// there is no access log.
	cmd := exec.Command(bin, "-F", "-j", "none", "-n", filepath.Join(a.dir, "work"),
		"-a", addr, "-f", vcl, "-s", fmt.Sprintf("malloc,%dm", cacheMiB), "-T", "none")
	return launch(ctx, "varnish", a.dir, addr, firstLine(bin, "-V"), cmd)
}

func startNginx(ctx context.Context, a startArgs) (*server, error) {
	bin := lookBinary("nginx")
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	d := a.dir
	for _, sub := range []string{"cache", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o777); err != nil {
			return nil, err
		}
		_ = os.Chmod(filepath.Join(d, sub), 0o777)
	}
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
master_process on;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  proxy_cache_path %[1]s/cache levels=1:2 keys_zone=hitbench:32m max_size=%[4]dm inactive=1h use_temp_path=off;
  upstream origin { server %[2]s; keepalive 64; }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hitbench;
    }
  }
}
`, d, a.origin, addr, cacheMiB)
	cf := filepath.Join(d, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", d, "-c", cf, "-e", filepath.Join(d, "error.log"))
	return launch(ctx, "nginx", d, addr, firstLine(bin, "-v"), cmd)
}

func startSquid(ctx context.Context, a startArgs) (*server, error) {
	bin := lookBinary("squid")
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(a.origin)
	_, lport, _ := net.SplitHostPort(addr)
	d := a.dir
	conf := fmt.Sprintf(`http_port 127.0.0.1:%[1]s accel defaultsite=%[2]s no-vhost
cache_peer %[2]s parent %[3]s 0 no-query originserver name=origin
cache_peer_access origin allow all
http_access allow all
cache_mem %[5]d MB
maximum_object_size_in_memory 1 MB
memory_cache_mode always
access_log none
cache_store_log none
cache_log %[4]s/cache.log
pid_filename %[4]s/squid.pid
coredump_dir %[4]s
icp_port 0
htcp_port 0
shutdown_lifetime 0 seconds
visible_hostname hitbench
`, lport, host, port, d, cacheMiB)
	cf := filepath.Join(d, "squid.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-N", "-f", cf)
	return launch(ctx, "squid", d, addr, firstLine(bin, "-v"), cmd)
}

func startATS(ctx context.Context, a startArgs) (*server, error) {
	bin := lookBinary("traffic_server")
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	_, lport, _ := net.SplitHostPort(addr)
	d := a.dir
	etc := filepath.Join(d, "etc")
	for _, sub := range []string{"etc", "run", "log", "cache"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o777); err != nil {
			return nil, err
		}
	}
	// The packaged configuration, then ours over it.
	if out, err := exec.Command("cp", "-r", "/etc/trafficserver/.", etc).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copying /etc/trafficserver: %v: %s", err, out)
	}
	records := fmt.Sprintf(`CONFIG proxy.config.http.server_ports STRING %[1]s:ip-in=127.0.0.1
CONFIG proxy.config.admin.user_id STRING #-1
CONFIG proxy.config.cache.ram_cache.size INT %[2]d
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.http.cache.http INT 1
CONFIG proxy.config.http.insert_response_via_str INT 0
CONFIG proxy.config.http.insert_request_via_str INT 0
CONFIG proxy.config.exec_thread.autoconfig INT 1
CONFIG proxy.config.exec_thread.autoconfig.scale FLOAT 1.0
CONFIG proxy.config.diags.debug.enabled INT 0
CONFIG proxy.config.process_manager.mgmt_port INT 0
`, lport, cacheMiB<<20)
	files := map[string]string{
		"records.config": records,
		"remap.config":   fmt.Sprintf("map http://%s/ http://%s/\n", addr, a.origin),
		"storage.config": fmt.Sprintf("%s %dM\n", filepath.Join(d, "cache"), cacheMiB),
		"plugin.config":  "",
		"logging.yaml":   "logging:\n  formats: []\n  logs: []\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	runroot := fmt.Sprintf(`prefix: /usr
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: %[1]s/etc
datadir: /usr/share/trafficserver
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: %[1]s/run
runtimedir: %[1]s/run
logdir: %[1]s/log
cachedir: %[1]s/cache
`, d)
	rr := filepath.Join(d, "runroot.yaml")
	if err := os.WriteFile(rr, []byte(runroot), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--run-root="+rr)
	cmd.Env = append(os.Environ(), "TS_RUNROOT="+rr)
	return launch(ctx, "trafficserver", d, addr, firstLine(bin, "--version"), cmd)
}
