package roster

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/shixincheck/shixincheck"
)

// nameDot is the interpunct of minority and transliterated foreign names
// (阿沛·阿旺晋美), the form the court site stores.
const nameDot = shixincheck.MiddleDot

// NormalizeName returns a name as the court site writes it, or an error whose
// text is a plain Chinese sentence for a clerk. Spaces are collapsed, and
// dropped next to Chinese characters (clerks pad two-character names to line
// them up: 王　五); middle-dot look-alikes (shixincheck.MiddleDots) become '·'.
func NormalizeName(s string) (string, error) {
	rs := collapseSpaces(norm.NFC.String(s))
	rs = dropSpacesNearHan(rs)
	if len(rs) == 0 {
		return "", errors.New("未填写姓名")
	}
	for i, r := range rs {
		switch {
		case unicode.IsDigit(r):
			return "", errors.New("姓名不能包含数字")
		case r == nameDot:
			if i == 0 || i == len(rs)-1 || rs[i+1] == nameDot {
				return "", errors.New("间隔号“·”只能用在两个字之间")
			}
		case r != ' ' && !unicode.IsLetter(r) && !unicode.Is(unicode.Han, r):
			return "", fmt.Errorf("姓名含有不能使用的字符“%c”", r)
		}
	}
	if n := len(rs); n < 2 || n > 30 {
		return "", fmt.Errorf("姓名应为2至30个字，现为%d个字", n)
	}
	return string(rs), nil
}

// collapseSpaces trims s, folds full-width letters and digits to ASCII, maps
// middle-dot look-alikes to '·' and turns each run of spaces into one ' '.
func collapseSpaces(s string) []rune {
	rs := make([]rune, 0, utf8.RuneCountInString(s))
	space := false
	for _, r := range s {
		if isSpace(r) {
			space = len(rs) > 0
			continue
		}
		if space {
			rs = append(rs, ' ')
			space = false
		}
		switch {
		case shixincheck.IsMiddleDot(r):
			r = nameDot
		case r >= '！' && r <= '～': // full-width ASCII block
			r = r - '！' + '!'
		}
		rs = append(rs, r)
	}
	return rs
}

// dropSpacesNearHan removes a space that has a Chinese character or '·' on
// either side: Chinese names are written without spaces. rs comes from
// collapseSpaces, so a space never starts or ends it.
func dropSpacesNearHan(rs []rune) []rune {
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		if r == ' ' && (hanOrDot(rs[i-1]) || hanOrDot(rs[i+1])) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func hanOrDot(r rune) bool { return r == nameDot || unicode.Is(unicode.Han, r) }

// isSpace reports white space, including the full-width space, NBSP and the
// invisible characters that come along when text is pasted from web pages.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF'
}

// trimSpace trims isSpace characters from both ends.
func trimSpace(s string) string { return strings.TrimFunc(s, isSpace) }
