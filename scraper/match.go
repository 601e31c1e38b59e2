package scraper

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/shixincheck/shixincheck"
)

// minKnownIDChars is how many unmasked characters a cardNum must show to be
// compared at all: the site's own masking (first 10, last 4) shows 14, the
// masking used in practice (first 6, last 4) shows 10.
const minKnownIDChars = 10

// Match says how one record of the site relates to the candidate: another
// name, the candidate (same name, consistent masked ID), a namesake (same
// name, inconsistent ID) or unclear (same name, no usable ID).
func Match(name, idNumber string, rec shixincheck.Record) shixincheck.Match {
	if !sameName(name, rec.Name) {
		return shixincheck.MatchOther
	}
	id := normaliseID(idNumber)
	if len(id) != 18 {
		return shixincheck.MatchUnclear // nothing to compare the record with
	}
	consistent, usable := idConsistent(id, normaliseID(rec.CardNum))
	switch {
	case !usable:
		return shixincheck.MatchUnclear
	case consistent:
		return shixincheck.MatchHit
	default:
		return shixincheck.MatchNamesake
	}
}

// sameName compares two names after normalisation.
func sameName(a, b string) bool {
	na := normaliseName(a)
	return na != "" && na == normaliseName(b)
}

// normaliseName folds full-width forms (NFKC), drops all spaces and
// invisible characters, maps middle-dot look-alikes (the list intake uses,
// shixincheck.MiddleDots) to U+00B7 and folds case.
func normaliseName(s string) string {
	// Dots first: NFKC would turn some look-alikes (ㆍ) into other letters.
	s = norm.NFKC.String(strings.Map(func(r rune) rune {
		if shixincheck.IsMiddleDot(r) {
			return shixincheck.MiddleDot
		}
		return r
	}, s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.Is(unicode.Cf, r):
			continue
		case shixincheck.IsMiddleDot(r):
			b.WriteRune(shixincheck.MiddleDot)
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// normaliseID folds full-width digits and stars, drops spaces and upper-cases x.
func normaliseID(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// idConsistent compares a (normalised, 18-character) ID with a masked card
// number. usable is false when the card number cannot be compared: empty,
// too short, mostly stars or not an ID at all.
func idConsistent(id, card string) (consistent, usable bool) {
	if !isMaskedID(card) {
		return false, false
	}
	if len(card) == 18 { // positional: 4202021980****1234 or the full number
		known := 0
		consistent = true
		for i := 0; i < 18; i++ {
			if card[i] == '*' {
				continue
			}
			known++
			if card[i] != id[i] {
				consistent = false
			}
		}
		return consistent, known >= minKnownIDChars
	}
	// prefix, one run of stars of another length, suffix: 420202****1234
	first, last := strings.IndexByte(card, '*'), strings.LastIndexByte(card, '*')
	if first < 0 || strings.Trim(card[first:last+1], "*") != "" {
		return false, false // a short number, or stars not in one run
	}
	head, tail := card[:first], card[last+1:]
	if len(head)+len(tail) < minKnownIDChars || len(head)+len(tail) >= 18 {
		return false, false
	}
	return strings.HasPrefix(id, head) && strings.HasSuffix(id, tail), true
}

// isMaskedID tells whether s looks like a (possibly masked) personal ID:
// digits and stars, an X only as the last character.
func isMaskedID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c == '*':
		case c == 'X' && i == len(s)-1:
		default:
			return false
		}
	}
	return true
}
