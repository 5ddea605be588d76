package hitbox

// Stat is one figure a backend reports about itself (entries held, a
// level's hits, background work dropped), for an observer such as the otel
// Metrics layer to publish. It lives here so that a store or a tier can
// report figures without importing the observer's package.
type Stat struct {
	// Name names the figure, dotted and lower case ("entries",
	// "tier.hits"); the otel layer publishes it as "hitbox." + Name.
	Name string
	// Level is the level the figure belongs to ("l1", "l2"), or empty for
	// a figure of the whole backend.
	Level string
	// Unit is the figure's UCUM unit: "By", "{entry}", "{call}".
	Unit string
	// Cumulative says the figure is a running total since the backend
	// started (a counter); otherwise it is a level that goes up and down (a
	// gauge).
	Cumulative bool
	// Value is the figure as of the report.
	Value int64
}
