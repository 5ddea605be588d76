package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// logAbove is the ratio of the largest to the smallest bar above which a
// chart's value axis is logarithmic.
const logAbove = 20

// chart draws o's primary figure as grouped bars: a group per
// configuration, a bar per impl, and saves it as a PNG at file. Only impls
// with a figure get a bar and a legend entry, each its own colour. A
// percentage gets a linear 0–100 % axis; other units a linear axis from
// zero, or a logarithmic one when they span more than logAbove. It
// reports false when there is nothing to draw.
func chart(o *outcome, file string) (bool, error) {
	unit := o.W.Primary
	impls, values := drawn(o, unit)
	if len(impls) == 0 {
		return false, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range values {
		for _, v := range row {
			if !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	p := plot.New()
	p.Title.Text = o.W.Name + ": " + o.W.Title
	p.Y.Label.Text = fmt.Sprintf("%s, median (%s)", unit, betterText(o.W))
	// Headroom above the highest bar keeps the legend clear of it.
	p.Y.Min = 0
	p.Y.Max = hi * 1.4
	p.Y.Tick.Marker = unitTicks{plot.DefaultTicks{}, unit}
	switch {
	case percent(unit):
		p.Y.Max = 100
		p.Y.Tick.Marker = percentTicks()
	case hi/lo > logAbove:
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = unitTicks{plot.LogTicks{Prec: -1}, unit}
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(lo)))
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(hi*4)))
		p.Y.Label.Text += ", log scale"
	}
	labels := make([]string, len(o.Configs))
	for j, cfg := range o.Configs {
		labels[j] = strings.ReplaceAll(cfg, "/", "\n")
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(o.Configs))-0.5
	group := 0.8 // of the distance between two configurations
	n := len(impls)
	p.Add(plotGrid())
	for i, impl := range impls {
		g := &bars{
			values: values[i],
			color:  seriesColor(i),
			at:     -group/2 + group*(float64(i)+0.5)/float64(n),
			width:  group / float64(n) * 0.9,
		}
		p.Add(g)
		p.Legend.Add(impl, g)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Millimeter
	width := vg.Length(3+1.1*float64(len(o.Configs))*max(1, float64(n)/3)) * vg.Inch
	if err := p.Save(min(width, 22*vg.Inch), 5.5*vg.Inch, file); err != nil {
		return false, err
	}
	return true, nil
}

// drawn returns the impls of o that have a figure in unit to draw, in
// order, and their figures by configuration (NaN: no bar).
func drawn(o *outcome, unit string) (impls []string, values [][]float64) {
	for _, impl := range o.Impls {
		row := make([]float64, len(o.Configs))
		measured := false
		for j, cfg := range o.Configs {
			row[j] = math.NaN()
			if st, ok := o.stat(cfg, impl, unit); ok && st.Center > 0 {
				row[j] = st.Center
				measured = true
			}
		}
		if measured {
			impls = append(impls, impl)
			values = append(values, row)
		}
	}
	return impls, values
}

// betterText says which way w's primary figure is better.
func betterText(w workload) string {
	if w.Higher {
		return "higher is better"
	}
	return "lower is better"
}

// percent reports whether unit is a percentage, drawn on a 0–100 axis.
func percent(unit string) bool { return strings.HasSuffix(unit, "%") }

// percentTicks marks a 0–100 % axis every 10 %.
func percentTicks() plot.Ticker {
	var ts []plot.Tick
	for v := 0; v <= 100; v += 10 {
		ts = append(ts, plot.Tick{Value: float64(v), Label: strconv.Itoa(v) + "%"})
	}
	return plot.ConstantTicks(ts)
}

// palette is the colours of a chart's series, in order: distinct enough
// side by side, and more of them than any workload has impls.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
	color.RGBA{A: 0xff},                            // black
	color.RGBA{R: 0xff, G: 0xd7, A: 0xff},          // gold
}

// seriesColor is the colour of a chart's i-th series. Past the palette,
// colours are spread around the hue circle, so no two series share one.
func seriesColor(i int) color.Color {
	if i < len(palette) {
		return palette[i]
	}
	h := math.Mod(float64(i-len(palette))*0.618033988749895, 1)
	return hsv(h, 0.65, 0.8)
}

// hsv converts a colour given as hue, saturation and value (each in
// [0, 1]) to RGB.
func hsv(h, s, v float64) color.Color {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return color.RGBA{R: uint8(255 * r), G: uint8(255 * g), B: uint8(255 * b), A: 0xff}
}

// bars is one impl's bars, drawn from the bottom of the value axis (which
// a logarithmic axis needs: it has no zero) up to each value, at an
// offset (in configurations) from each configuration's place.
type bars struct {
	values []float64
	color  color.Color
	at     float64 // offset of the bar's centre from the group's
	width  float64 // in configurations
}

// Plot draws the bars.
func (g *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for j, v := range g.values {
		if math.IsNaN(v) {
			continue
		}
		x0 := trX(float64(j) + g.at - g.width/2)
		x1 := trX(float64(j) + g.at + g.width/2)
		y0 := trY(p.Y.Min)
		y1 := trY(math.Max(v, p.Y.Min))
		rect := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(g.color, c.ClipPolygonY(rect))
	}
}

// Thumbnail draws the legend's swatch.
func (g *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(g.color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// plotGrid returns horizontal grid lines only: the bars mark the x axis.
func plotGrid() plot.Plotter {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// unitTicks labels another Ticker's ticks in the unit's own scale (µs,
// KiB), as the tables do.
type unitTicks struct {
	plot.Ticker
	unit string
}

// Ticks returns the inner ticks, relabelled.
func (u unitTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := u.Ticker.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = formatValue(ts[i].Value, u.unit)
		}
	}
	return ts
}

// sizeConfig is a hit-ratio configuration: the cache's size, in percent of
// the stream's distinct keys, and the stream.
var sizeConfig = regexp.MustCompile(`^cache=([0-9.]+)%/dist=(.+)$`)

// sweepSize is one cache size of a stream in a hit-ratio workload.
type sweepSize struct {
	percent float64
	config  string
}

// sweeps returns the streams of o's hit-ratio configurations, in order,
// and the cache sizes each was measured at, smallest first.
func sweeps(o *outcome) ([]string, map[string][]sweepSize) {
	byDist := make(map[string][]sweepSize)
	var dists []string
	for _, cfg := range o.Configs {
		m := sizeConfig.FindStringSubmatch(cfg)
		if m == nil {
			continue
		}
		pc, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		if _, ok := byDist[m[2]]; !ok {
			dists = append(dists, m[2])
		}
		byDist[m[2]] = append(byDist[m[2]], sweepSize{pc, cfg})
	}
	for _, sizes := range byDist {
		sort.Slice(sizes, func(i, j int) bool { return sizes[i].percent < sizes[j].percent })
	}
	return dists, byDist
}

// lines returns the impls of o measured at every one of sizes, in order,
// and their figures in unit against size. A line through fewer sizes
// would say nothing of those between.
func lines(o *outcome, sizes []sweepSize, unit string) ([]string, []plotter.XYs) {
	var impls []string
	var all []plotter.XYs
	for _, impl := range o.Impls {
		var xys plotter.XYs
		for _, s := range sizes {
			if st, ok := o.stat(s.config, impl, unit); ok {
				xys = append(xys, plotter.XY{X: s.percent, Y: st.Center})
			}
		}
		if len(xys) == len(sizes) {
			impls = append(impls, impl)
			all = append(all, xys)
		}
	}
	return impls, all
}

// sizeLines returns the impls that sizeCharts draws a line for in dist's
// chart.
func sizeLines(o *outcome, dist string) []string {
	_, byDist := sweeps(o)
	impls, _ := lines(o, byDist[dist], o.W.Primary)
	return impls
}

// sizeCharts draws, for each stream of o measured at three cache sizes or
// more, o's primary figure against the cache's size: a line per impl
// measured at every one of those sizes, each its own colour, on linear
// axes from zero (0–100 for a percentage). It saves them as PNGs under dir
// and returns them, paths relative to dir.
func sizeCharts(o *outcome, dir string) ([]chartRef, error) {
	unit := o.W.Primary
	dists, byDist := sweeps(o)
	var refs []chartRef
	for _, dist := range dists {
		sizes := byDist[dist]
		if len(sizes) < 3 {
			continue
		}
		impls, all := lines(o, sizes, unit)
		if len(impls) == 0 {
			continue
		}
		p := plot.New()
		title := "hit ratio against cache size, " + dist
		p.Title.Text = o.W.Name + ": " + title
		p.X.Label.Text = "cache size, % of the stream's distinct keys"
		p.Y.Label.Text = fmt.Sprintf("%s (%s)", unit, betterText(o.W))
		p.X.Min, p.X.Max = 0, sizes[len(sizes)-1].percent*1.05
		var ticks []plot.Tick
		for _, s := range sizes {
			ticks = append(ticks, plot.Tick{Value: s.percent, Label: strconv.FormatFloat(s.percent, 'f', -1, 64) + "%"})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Add(plotter.NewGrid())
		p.Y.Min, p.Y.Max = 0, 0
		for i, impl := range impls {
			line, points, err := plotter.NewLinePoints(all[i])
			if err != nil {
				return nil, err
			}
			c := seriesColor(i)
			line.Color, line.Width = c, vg.Points(1.5)
			points.Color, points.Shape = c, draw.CircleGlyph{}
			p.Add(line, points)
			p.Legend.Add(impl, line, points)
			for _, xy := range all[i] {
				p.Y.Max = max(p.Y.Max, xy.Y)
			}
		}
		p.Y.Max *= 1.2
		p.Y.Tick.Marker = unitTicks{plot.DefaultTicks{}, unit}
		if percent(unit) {
			p.Y.Max = 100
			p.Y.Tick.Marker = percentTicks()
		}
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.XOffs = 12 * vg.Millimeter
		rel := path.Join("charts", o.W.Name+"BySize-"+dist+".png")
		file := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, err
		}
		if err := p.Save(8*vg.Inch, 5.5*vg.Inch, file); err != nil {
			return nil, err
		}
		refs = append(refs, chartRef{Title: title, Path: rel})
	}
	return refs, nil
}

// chartRef is a chart of the report: its alt text and its path, relative
// to the report.
type chartRef struct{ Title, Path string }
