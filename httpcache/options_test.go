package httpcache_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/internal/panics"
)

// TestOptionsRule checks the module's constructor rule for httpcache:
// invalid options panic in New with exactly the message Validate
// returns, and valid ones (the zero value among them) pass both.
func TestOptionsRule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts httpcache.Options
		want string // "" when valid
	}{
		{"the zero value means defaults", httpcache.Options{}, ""},
		{"a token CacheName is valid", httpcache.Options{CacheName: "edge-1"}, ""},
		{"a CacheName with a space is no sf-token", httpcache.Options{CacheName: "my cache"},
			`hitbox/httpcache: Options.CacheName: "my cache" is not an sf-token (RFC 8941)`},
		{"a negative MaxBodySize", httpcache.Options{MaxBodySize: -1},
			"hitbox/httpcache: Options.MaxBodySize: -1 is negative"},
		{"a negative StaleIfError", httpcache.Options{StaleIfError: -time.Second},
			"hitbox/httpcache: Options.StaleIfError: -1000000000 is negative"},
		{"a negative MaxBackground", httpcache.Options{MaxBackground: -2},
			"hitbox/httpcache: Options.MaxBackground: -2 is negative"},
		{"TagFields naming other fields is valid", httpcache.Options{TagFields: []string{"xkey", "X-Tags"}}, ""},
		{`TagFields "-" alone turns tags off`, httpcache.Options{TagFields: []string{"-"}}, ""},
		{"a TagFields entry that is no field name", httpcache.Options{TagFields: []string{"Surrogate Key"}},
			`hitbox/httpcache: Options.TagFields: "Surrogate Key" is not a field name`},
		{`TagFields "-" beside a name`, httpcache.Options{TagFields: []string{"-", "Cache-Tag"}},
			`hitbox/httpcache: Options.TagFields: "-" turns tags off and goes alone`},
		{"a TagFields entry the cache reads itself would be stripped from responses", httpcache.Options{TagFields: []string{"cache-control"}},
			`hitbox/httpcache: Options.TagFields: "cache-control" is a field the cache reads or sends itself`},
		{"a negative HeuristicFraction", httpcache.Options{HeuristicFraction: -0.5},
			"hitbox/httpcache: Options.HeuristicFraction: -0.5 is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := c.opts.Validate(); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("Validate = %q, want %q", got, c.want)
			}
			p := panics.Message(func() { httpcache.New(mapstore.New(mapstore.Options{}), c.opts).Close() })
			switch {
			case c.want == "" && p != "":
				t.Errorf("New panicked on valid options: %v", p)
			case c.want != "" && p != c.want:
				t.Errorf("New panicked with %v, want %q", p, c.want)
			}
		})
	}
}
