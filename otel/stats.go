package otel

import (
	"context"
	"sync"

	global "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/hitbox-go/hitbox"
)

// Reporter is implemented by a backend that keeps figures about itself
// (entries held, bytes held, background work queued or dropped, a level's
// breaker) so the Metrics layer above it publishes them as observable
// instruments. Its method uses only the root package's hitbox.Stat, so a
// store or a tier implements it without importing this package or
// OpenTelemetry:
//
//	func (s *Store) ReportStats(report func(hitbox.Stat)) {
//		report(hitbox.Stat{Name: "entries", Unit: "{entry}", Value: int64(s.Len())})
//		report(hitbox.Stat{Name: "evictions", Unit: "{entry}", Cumulative: true, Value: s.evictions.Load()})
//	}
//
// ReportStats calls report once per figure, with the same names, levels,
// units and kinds, in the same order, every time; only the values change.
// It must be quick and safe for concurrent use: it runs on each metrics
// collection.
//
// The Metrics layer asks for the figures once, when it is built, and makes
// one instrument per Name, "hitbox." + Name (so "entries" becomes
// hitbox.entries), with the given UCUM Unit ("By", "{entry}"). A
// Cumulative figure, a running total since the backend started, becomes an
// observable counter; any other, a level that goes up and down, an
// observable gauge. Each observation carries the layer's hitbox.backend
// attribute and, when Level is not empty, hitbox.level set to it: a tier
// reports one figure per level under one name, such as
// hitbox.Stat{Name: "tier.breaker.open", Level: "l2", ...}. Otherwise
// hitbox.level is the layer's own, from WithLevel. A figure first reported
// after the layer was built is ignored.
//
// The Metrics layer looks for a Reporter in the backend it wraps and, down
// the Unwrap chain, in the backends under it, stopping at another Metrics
// layer (which publishes what is under it itself). Close on the layer
// stops the publishing.
type Reporter interface {
	ReportStats(report func(hitbox.Stat))
}

// findReporter returns the first Reporter at or under b, or nil.
func findReporter(b hitbox.Backend) Reporter {
	for b != nil {
		if _, ok := b.(*metered); ok {
			return nil
		}
		if r, ok := b.(Reporter); ok {
			return r
		}
		u, ok := b.(hitbox.Unwrapper)
		if !ok {
			return nil
		}
		b = u.Unwrap()
	}
	return nil
}

// figure is one (name, level) a Reporter reports, with its instrument and
// its pre-built attribute set.
type figure struct {
	name, level string
	inst        metric.Int64Observable
	opts        []metric.ObserveOption
}

// statsObserver publishes a Reporter's figures. One callback serves every
// figure; it allocates nothing per collection: the report func handed to
// the Reporter is made once, and finds its figure by the order of the
// figures (by name and level when the order changed).
type statsObserver struct {
	r       Reporter
	figures []figure
	index   map[[2]string]int // name, level -> figures index
	report  func(hitbox.Stat)
	reg     metric.Registration

	mu   sync.Mutex // one collection at a time uses obs and next
	obs  metric.Observer
	next int
}

// observeStats creates one observable instrument per figure name r
// reports and registers the callback that observes them, reporting
// failures to otel.Handle. It returns nil when there is nothing to
// publish. base holds the layer's attributes: the backend label and, when
// set, its level.
func observeStats(meter metric.Meter, r Reporter, base []attribute.KeyValue) *statsObserver {
	s := &statsObserver{r: r, index: make(map[[2]string]int)}
	insts := make(map[string]metric.Int64Observable)
	var observables []metric.Observable
	r.ReportStats(func(st hitbox.Stat) {
		name, level, unit, cumulative := st.Name, st.Level, st.Unit, st.Cumulative
		if _, dup := s.index[[2]string{name, level}]; dup {
			return
		}
		inst, made := insts[name]
		if !made {
			var err error
			desc := metric.WithDescription("Reported by the backend.")
			if cumulative {
				inst, err = meter.Int64ObservableCounter("hitbox."+name, metric.WithUnit(unit), desc)
			} else {
				inst, err = meter.Int64ObservableGauge("hitbox."+name, metric.WithUnit(unit), desc)
			}
			if err != nil {
				global.Handle(err)
			}
			if inst == nil {
				return
			}
			insts[name] = inst
			observables = append(observables, inst)
		}
		kv := base[:len(base):len(base)]
		if level != "" {
			kv = append(kv, LevelKey.String(level)) // a later duplicate key wins in a Set
		}
		s.index[[2]string{name, level}] = len(s.figures)
		s.figures = append(s.figures, figure{
			name: name, level: level, inst: inst,
			opts: []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kv...))},
		})
	})
	if len(s.figures) == 0 {
		return nil
	}
	s.report = s.observe
	reg, err := meter.RegisterCallback(s.callback, observables...)
	if err != nil {
		global.Handle(err)
		return nil
	}
	s.reg = reg
	return s
}

func (s *statsObserver) callback(_ context.Context, o metric.Observer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.obs, s.next = o, 0
	s.r.ReportStats(s.report)
	s.obs = nil
	return nil
}

func (s *statsObserver) observe(st hitbox.Stat) {
	name, level, value := st.Name, st.Level, st.Value
	i := s.next
	if i >= len(s.figures) || s.figures[i].name != name || s.figures[i].level != level {
		var ok bool
		if i, ok = s.index[[2]string{name, level}]; !ok {
			return
		}
	}
	s.next = i + 1
	if s.obs != nil {
		f := &s.figures[i]
		s.obs.ObserveInt64(f.inst, value, f.opts...)
	}
}

// unregister stops the callback, reporting a failure to otel.Handle.
func (s *statsObserver) unregister() {
	if err := s.reg.Unregister(); err != nil {
		global.Handle(err)
	}
}
