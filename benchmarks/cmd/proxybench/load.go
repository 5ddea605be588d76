package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadResult is what one load run measured.
type loadResult struct {
	requests, errors, nonOK int64
	rps                     float64
	p50, p99                time.Duration
}

// loadGen sends keep-alive requests over conns connections for a while,
// to one URL or spread uniformly over several.
type loadGen interface {
	name() string
	run(ctx context.Context, urls []string, conns int, d time.Duration) (loadResult, error)
}

// wrk runs the wrk binary; for several URLs, a Lua script picks one at
// random per request.
type wrk struct {
	path, dir, version string
}

func newWrk(dir string) (*wrk, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return nil, err
	}
	out, _ := exec.Command(p, "-v").CombinedOutput()
	v := strings.Fields(string(out))
	ver := "wrk"
	if len(v) >= 2 {
		ver = "wrk " + v[1]
	}
	return &wrk{path: p, dir: dir, version: ver}, nil
}

func (w *wrk) name() string { return w.version + " (2 threads)" }

var (
	wrkReqs   = regexp.MustCompile(`(\d+) requests in`)
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPct    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkErrs   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func (w *wrk) run(ctx context.Context, urls []string, conns int, d time.Duration) (loadResult, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(max(1, int(d/time.Second))) + "s", "--latency", "--timeout", "5s"}
	target := urls[0]
	if len(urls) > 1 {
		// URLs are http://host/u/N, N from 0.
		script := filepath.Join(w.dir, "urls.lua")
		lua := fmt.Sprintf("math.randomseed(os.time())\nrequest = function()\n  return wrk.format(\"GET\", \"/u/\" .. math.random(0, %d))\nend\n", len(urls)-1)
		if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
			return loadResult{}, err
		}
		args = append(args, "-s", script)
		target = urls[0][:strings.Index(urls[0][len("http://"):], "/")+len("http://")] + "/"
	}
	args = append(args, target)
	out, err := exec.CommandContext(ctx, w.path, args...).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(s string) (loadResult, error) {
	var r loadResult
	m := wrkReqs.FindStringSubmatch(s)
	if m == nil {
		return r, fmt.Errorf("wrk output without a request count: %s", s)
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	if m := wrkRPS.FindStringSubmatch(s); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range wrkPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkErrs.FindStringSubmatch(s); m != nil {
		for _, x := range m[1:] {
			n, _ := strconv.ParseInt(x, 10, 64)
			r.errors += n
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(s); m != nil {
		r.nonOK, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return r, nil
}

// goLoad is the load generator used when wrk is not installed: conns
// goroutines, each with a keep-alive connection of its own.
type goLoad struct{}

func (goLoad) name() string { return "Go keep-alive load generator (net/http client)" }

func (goLoad) run(ctx context.Context, urls []string, conns int, d time.Duration) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu  sync.Mutex
		all []time.Duration
		res loadResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for g := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			rd := bufio.NewReaderSize(nil, 32<<10)
			lat := make([]time.Duration, 0, 1<<16)
			var n, errs, nonOK int64
			seed := uint64(g)*0x9e3779b97f4a7c15 + 1
			for ctx.Err() == nil {
				u := urls[0]
				if len(urls) > 1 {
					seed ^= seed << 13
					seed ^= seed >> 7
					seed ^= seed << 17
					u = urls[seed%uint64(len(urls))]
				}
				t := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
					continue
				}
				rd.Reset(resp.Body)
				_, _ = io.Copy(io.Discard, rd)
				_ = resp.Body.Close()
				if resp.StatusCode >= 400 {
					nonOK++
				}
				lat = append(lat, time.Since(t))
				n++
			}
			mu.Lock()
			all = append(all, lat...)
			res.requests += n
			res.errors += errs
			res.nonOK += nonOK
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.rps = float64(res.requests) / time.Since(start).Seconds()
	if len(all) > 0 {
		slices.Sort(all)
		res.p50 = all[len(all)/2]
		res.p99 = all[len(all)*99/100]
	}
	return res, nil
}
