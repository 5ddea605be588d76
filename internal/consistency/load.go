package consistency

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// commandLog notes when each instance sent Redis a command (a pipeline
// counts each of its commands), so the report can tell how much more load
// the shared level takes during a fault than when healthy: a bus gap
// sends every read to Redis.
type commandLog struct {
	mu sync.Mutex
	at []time.Time
}

func (l *commandLog) note(n int) {
	now := time.Now()
	l.mu.Lock()
	for range n {
		l.at = append(l.at, now)
	}
	l.mu.Unlock()
}

func (l *commandLog) times() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at)
}

// hook is the go-redis hook that feeds a commandLog.
type hook struct{ log *commandLog }

func (h hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.log.note(1)
		return next(ctx, cmd)
	}
}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.log.note(len(cmds))
		return next(ctx, cmds)
	}
}

var _ redis.Hook = hook{}

// PhaseLoad is the load the cache put on the shared level and on the
// source during one kind of phase of a run: healthy ("none") or a fault
// kind, its settle time included.
type PhaseLoad struct {
	Phase    string
	Time     time.Duration // how long the run spent in it
	Calls    int           // cache calls that began in it
	Commands int           // Redis commands the instances sent in it
	Loaded   int           // GetOrLoad and GetOrLoadMany calls that began in it
	Loads    int           // the source reads their loaders made
}

// loadByPhase sums the history's calls and loads, and the commands at
// cmds, by the phase each began in.
func (r *Report) loadByPhase(cmds []time.Time) []PhaseLoad {
	by := make(map[string]*PhaseLoad)
	get := func(t time.Time) *PhaseLoad {
		phase := "none"
		if f, ok := r.faultAt(t); ok {
			phase = f.Kind
		}
		p := by[phase]
		if p == nil {
			p = &PhaseLoad{Phase: phase}
			by[phase] = p
		}
		return p
	}
	for _, o := range r.history {
		p := get(o.Start)
		switch o.Kind {
		case Load:
			p.Loads++
			continue
		case GetOrLoad, GetOrLoadMany:
			p.Loaded++
		}
		p.Calls++
	}
	for _, t := range cmds {
		get(t).Commands++
	}
	// Time per phase, in steps of a millisecond.
	for t := r.first; t.Before(r.last); t = t.Add(time.Millisecond) {
		get(t).Time += time.Millisecond
	}
	out := make([]PhaseLoad, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PhaseLoad) int {
		switch {
		case a.Phase == "none":
			return -1
		case b.Phase == "none":
			return 1
		}
		return strings.Compare(a.Phase, b.Phase)
	})
	return out
}

// writeLoad prints the load per phase: Redis commands per cache call and
// source reads per loading call, beside the healthy phase's.
func (r *Report) writeLoad(w io.Writer) {
	if len(r.Load) == 0 {
		return
	}
	fmt.Fprintln(w, "load per phase (Redis commands per cache call; source reads per GetOrLoad/GetOrLoadMany call):")
	for _, p := range r.Load {
		if p.Calls == 0 {
			continue
		}
		perLoad := 0.0
		if p.Loaded > 0 {
			perLoad = float64(p.Loads) / float64(p.Loaded)
		}
		fmt.Fprintf(w, "  %-10s %7v  %6d calls  %6.2f commands/call  %5.2f source reads/loading call\n",
			p.Phase, p.Time.Round(time.Millisecond), p.Calls, float64(p.Commands)/float64(p.Calls), perLoad)
	}
}
