package hitbox_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

func TestEntryCapTTL(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	for _, tc := range []struct {
		name   string
		in     hitbox.Entry
		maxTTL time.Duration
		want   hitbox.Entry
	}{
		{"An entry with no Expire gets now+maxTTL.",
			hitbox.Entry{}, time.Minute, hitbox.Entry{Expire: at(time.Minute)}},
		{"A later Expire is lowered to now+maxTTL.",
			hitbox.Entry{Expire: at(time.Hour)}, time.Minute, hitbox.Entry{Expire: at(time.Minute)}},
		{"An earlier Expire is kept: a cap never lengthens a lifetime.",
			hitbox.Entry{Expire: at(time.Second)}, time.Minute, hitbox.Entry{Expire: at(time.Second)}},
		{"An Expire already passed stays passed.",
			hitbox.Entry{Expire: at(-time.Hour)}, time.Minute, hitbox.Entry{Expire: at(-time.Hour)}},
		{"A Stale after the lowered Expire is cut to it.",
			hitbox.Entry{Expire: at(time.Hour), Stale: at(30 * time.Minute)}, time.Minute,
			hitbox.Entry{Expire: at(time.Minute), Stale: at(time.Minute)}},
		{"A Stale alone is cut to the Expire the cap gives.",
			hitbox.Entry{Stale: at(time.Hour)}, time.Minute, hitbox.Entry{Expire: at(time.Minute), Stale: at(time.Minute)}},
		{"A Stale before the lowered Expire is kept.",
			hitbox.Entry{Expire: at(time.Hour), Stale: at(time.Second)}, time.Minute,
			hitbox.Entry{Expire: at(time.Minute), Stale: at(time.Second)}},
		{"A zero maxTTL changes nothing.",
			hitbox.Entry{Stale: at(time.Hour)}, 0, hitbox.Entry{Stale: at(time.Hour)}},
		{"A negative maxTTL changes nothing.",
			hitbox.Entry{Expire: at(time.Hour)}, -time.Minute, hitbox.Entry{Expire: at(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.in.CapTTL(now, tc.maxTTL)
			if !got.Expire.Equal(tc.want.Expire) || !got.Stale.Equal(tc.want.Stale) {
				t.Errorf("CapTTL = Expire %v Stale %v, want Expire %v Stale %v", got.Expire, got.Stale, tc.want.Expire, tc.want.Stale)
			}
		})
	}
}
