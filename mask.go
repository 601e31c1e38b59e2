package shixincheck

import (
	"strings"
	"unicode/utf8"
)

// MaskID shows the first 6 and last 4 characters of an ID number, the
// convention of filings: 420202********1234. Anything shorter than a full
// ID is masked completely.
func MaskID(id string) string {
	rs := []rune(id)
	if len(rs) < 18 {
		return strings.Repeat("*", len(rs))
	}
	return string(rs[:6]) + strings.Repeat("*", len(rs)-10) + string(rs[len(rs)-4:])
}

// MaskName keeps the first character and masks the rest: 陈**.
func MaskName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return ""
	}
	return string(r) + strings.Repeat("*", utf8.RuneCountInString(name[size:]))
}
