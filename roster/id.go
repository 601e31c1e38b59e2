package roster

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// checkWeights and checkChars are the check-digit rule of GB 11643-1999.
var (
	checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	checkChars   = "10X98765432"
)

// chinaTime is Beijing time; China has had no daylight saving since 1991,
// so a fixed zone needs no tz database on the host.
var chinaTime = time.FixedZone("Asia/Shanghai", 8*60*60)

// NormalizeID returns the 18-character form of a resident ID number
// (upper-case X), upgrading a 15-digit old number, or an error whose text is
// a plain Chinese sentence for a clerk. The text never repeats the number.
func NormalizeID(s string) (string, error) {
	s = foldID(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", errors.New("未填写身份证号")
	case n != 15 && n != 18:
		return "", fmt.Errorf("长度应为18位，现为%d位", n)
	case len(s) != n || !digits(s[:n-1]) || !(digits(s[n-1:]) || n == 18 && s[n-1] == 'X'):
		return "", errors.New("只能由数字组成（18位号码的最后一位可以是X）")
	}
	if n == 15 {
		// Old IDs have a 2-digit birth year (all 19xx) and no check digit.
		s = s[:6] + "19" + s[6:]
		s += string(checkDigit(s))
	}
	if !validProvince(s[:2]) {
		return "", errors.New("地区码无效（前两位不是有效的省份代码）")
	}
	if !validBirth(s[6:14], time.Now().In(chinaTime)) {
		return "", errors.New("出生日期无效（第7至14位不是有效的出生日期）")
	}
	if s[17] != checkDigit(s[:17]) {
		return "", errors.New("校验位错误（最后一位与前17位不符），请核对是否录错")
	}
	return s, nil
}

// foldID drops spaces and turns full-width digits and x/X into ASCII,
// lower-case x into X.
func foldID(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isSpace(r):
			continue
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
		case r == 'x' || r == 'ｘ' || r == 'Ｘ':
			r = 'X'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkDigit computes the 18th character from the first 17 digits.
func checkDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * checkWeights[i]
	}
	return checkChars[sum%11]
}

// validProvince reports whether the first two digits name a province-level
// division (including 71 Taiwan, 81 Hong Kong, 82 Macao, 83 for Taiwan
// residents' residence permits).
func validProvince(code string) bool {
	n := int(code[0]-'0')*10 + int(code[1]-'0')
	switch {
	case n >= 11 && n <= 15, n >= 21 && n <= 23, n >= 31 && n <= 37,
		n >= 41 && n <= 46, n >= 50 && n <= 54, n >= 61 && n <= 65:
		return true
	}
	return n == 71 || n == 81 || n == 82 || n == 83
}

// validBirth reports whether yyyymmdd is a real date from 1900 up to today.
func validBirth(yyyymmdd string, now time.Time) bool {
	t, err := time.ParseInLocation("20060102", yyyymmdd, chinaTime)
	if err != nil || t.Year() < 1900 {
		return false
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	return !t.After(today)
}
