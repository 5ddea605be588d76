package redisstore

import "testing"

// TestSlot checks the slots of keys against values Redis documents and
// computes (CLUSTER KEYSLOT); the cluster tests compare many more with a
// live server.
func TestSlot(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, key string
		want      uint16
	}{
		{"the CRC16 check string", "123456789", 0x31c3 % slots},
		{"a plain key", "foo", 12182},
		{"the empty key", "", 0},
		{"a hash tag hashes only the tag", "{user1000}.following", 3443},
		{"the same tag, another key", "{user1000}.followers", 3443},
		{"only the first tag counts", "foo{bar}{zap}", 5061},
		{"an empty tag hashes the whole key", "foo{}{bar}", 8363},
		{"an unclosed brace hashes the whole key", "foo{bar", 15278},
		{"a tag after a stray closing brace", "}foo{bar}", 5061},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := slot(c.key); got != c.want {
				t.Fatalf("slot(%q) = %d, want %d", c.key, got, c.want)
			}
		})
	}
}
