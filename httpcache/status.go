package httpcache

// cacheStatus is this cache's member of a Cache-Status field (RFC 9211).
type cacheStatus struct {
	name      string
	hit       bool
	fwd       string
	fwdStatus int
	stored    bool
	collapsed bool
	ttl       int64
	hasTTL    bool
	key       string
	detail    string
}

// String renders s as an sf-list member.
func (s cacheStatus) String() string { return s.name }
