package courtsim

import (
	"fmt"
	"time"
)

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkDigit computes the 18th character of a citizen ID from its first 17 digits.
func checkDigit(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// makeIDNumber builds a valid 18-character ID: region, birth date, sequence
// number (odd for men, even for women) and check digit.
func makeIDNumber(region string, birth time.Time, seq int) string {
	body := region + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	return body + string(checkDigit(body))
}

// maskID masks an ID the way the site shows it: first 10, ****, last 4.
func maskID(id string) string {
	return id[:10] + "****" + id[14:]
}

// idIsMale reads the sex from the sequence number's last digit.
func idIsMale(id string) bool {
	return (id[16]-'0')%2 == 1
}
