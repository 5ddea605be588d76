package httpcache

// validTargeted reports whether the lines of a targeted field form a valid
// Structured Fields Dictionary (RFC 8941 §3.2), as RFC 9213 §2 requires:
// a field that fails to parse is ignored and Cache-Control applies.
func validTargeted(lines []string) bool {
	empty := true
	for _, l := range lines {
		p := sfParser{s: l}
		p.ows()
		if p.done() {
			continue // an empty line adds no members
		}
		empty = false
		if !p.dictionary() {
			return false
		}
	}
	return !empty
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) ows() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) sp() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

// dictionary parses members separated by commas up to the end.
func (p *sfParser) dictionary() bool {
	for {
		if !p.key() {
			return false
		}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				if !p.innerList() {
					return false
				}
			} else if !p.bareItem() {
				return false
			}
		}
		if !p.params() {
			return false
		}
		p.ows()
		if p.done() {
			return true
		}
		if p.peek() != ',' {
			return false
		}
		p.i++
		p.ows()
		if p.done() {
			return false // a trailing comma
		}
	}
}

func (p *sfParser) key() bool {
	c := p.peek()
	if !(c == '*' || ('a' <= c && c <= 'z')) {
		return false
	}
	p.i++
	for !p.done() {
		c := p.s[p.i]
		if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return true
}

func (p *sfParser) params() bool {
	for p.peek() == ';' {
		p.i++
		p.sp()
		if !p.key() {
			return false
		}
		if p.peek() == '=' {
			p.i++
			if !p.bareItem() {
				return false
			}
		}
	}
	return true
}

func (p *sfParser) innerList() bool {
	p.i++ // '('
	for {
		p.sp()
		if p.peek() == ')' {
			p.i++
			return p.params()
		}
		if !p.bareItem() || !p.params() {
			return false
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
}

func (p *sfParser) bareItem() bool {
	c := p.peek()
	switch {
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == '"':
		p.i++
		for !p.done() {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '\\':
				if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
					return false
				}
				p.i++
			case c == '"':
				return true
			case c < 0x20 || c > 0x7e:
				return false
			}
		}
		return false
	case c == '*' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'):
		p.i++
		for !p.done() && (isTokenChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		return true
	case c == ':':
		p.i++
		for !p.done() {
			c := p.s[p.i]
			p.i++
			if c == ':' {
				return true
			}
			if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '+' || c == '/' || c == '=') {
				return false
			}
		}
		return false
	case c == '?':
		p.i++
		if c := p.peek(); c == '0' || c == '1' {
			p.i++
			return true
		}
		return false
	}
	return false
}

func (p *sfParser) number() bool {
	if p.peek() == '-' {
		p.i++
	}
	start := p.i
	dot := -1
	for !p.done() {
		c := p.s[p.i]
		if c == '.' && dot < 0 {
			dot = p.i
		} else if c < '0' || c > '9' {
			break
		}
		p.i++
	}
	n := p.i - start
	switch {
	case n == 0 || p.s[start] == '.':
		return false
	case dot < 0:
		return n <= 15
	default:
		frac := p.i - dot - 1
		return dot-start <= 12 && frac >= 1 && frac <= 3
	}
}
