package main

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// logAbove is the ratio of the largest to the smallest bar above which a
// chart's value axis is logarithmic.
const logAbove = 20

// chart draws o's primary figure as grouped bars: a group per
// configuration, a bar per impl, and saves it as a PNG at file. It
// reports false when there is nothing to draw.
func chart(o *outcome, file string) (bool, error) {
	unit := o.W.Primary
	lo, hi := math.Inf(1), math.Inf(-1)
	values := make([][]float64, len(o.Impls)) // by impl, then config; NaN: no bar
	for i, impl := range o.Impls {
		values[i] = make([]float64, len(o.Configs))
		for j, cfg := range o.Configs {
			values[i][j] = math.NaN()
			if st, ok := o.stat(cfg, impl, unit); ok && st.Center > 0 {
				values[i][j] = st.Center
				lo, hi = min(lo, st.Center), max(hi, st.Center)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return false, nil
	}
	p := plot.New()
	p.Title.Text = o.W.Name + ": " + o.W.Title
	better := "lower is better"
	if o.W.Higher {
		better = "higher is better"
	}
	p.Y.Label.Text = fmt.Sprintf("%s, median (%s)", unit, better)
	// Headroom above the highest bar keeps the legend clear of it.
	p.Y.Min = 0
	p.Y.Max = hi * 1.4
	p.Y.Tick.Marker = unitTicks{plot.DefaultTicks{}, unit}
	if hi/lo > logAbove {
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
	n := len(o.Impls)
	p.Add(plotGrid())
	for i, impl := range o.Impls {
		g := &bars{
			values: values[i],
			color:  plotutil.Color(i),
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
