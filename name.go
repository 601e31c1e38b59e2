package shixincheck

import "strings"

// MiddleDot is the interpunct of minority and transliterated foreign names
// (阿沛·阿旺晋美), U+00B7: the form the court site stores and intake writes.
const MiddleDot = '\u00B7'

// MiddleDots are the characters clerks, input methods and web pages write
// in its place, MiddleDot included: intake (roster) and matching (scraper)
// both read each of them as MiddleDot.
const MiddleDots = "\u00B7" + // · middle dot
	"\u0387" + // · Greek ano teleia
	"\u2022" + // • bullet
	"\u2027" + // ‧ hyphenation point
	"\u2219" + // ∙ bullet operator
	"\u22C5" + // ⋅ dot operator
	"\u30FB" + // ・ katakana middle dot
	"\uFF65" + // ･ half-width katakana middle dot
	"\uFF0E" + // ． full-width full stop
	"\u2E31" + // ⸱ word separator middle dot
	"\u318D" + // ㆍ Hangul letter araea
	"\u16EB" + // ᛫ runic single punctuation
	"\u1427" + // ᐧ Canadian syllabics final middle dot
	"\uA78F" + // ꞏ Latin letter sinological dot
	"." // ASCII full stop

// IsMiddleDot reports whether r is one of MiddleDots.
func IsMiddleDot(r rune) bool { return strings.ContainsRune(MiddleDots, r) }
