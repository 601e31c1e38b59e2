package roster

import "testing"

func TestNormalizeID(t *testing.T) {
	// Valid numbers below were computed by hand with the GB 11643 weights.
	tests := []struct {
		in, want, err string
	}{
		{in: "420202198001011237", want: "420202198001011237"},
		{in: "11010519491231002X", want: "11010519491231002X"},
		{in: "11010519491231002x", want: "11010519491231002X"},
		{in: "  320106199003074515\u3000", want: "320106199003074515"},
		{in: "\u00a0650101200002290013", want: "650101200002290013"}, // 29 Feb of a leap year
		{in: "８１００００１９９５０１０１００１５", want: "810000199501010015"},
		{in: "１１０１０５１９４９１２３１００２ｘ", want: "11010519491231002X"},
		{in: "420202 19800101 1237", want: "420202198001011237"},
		{in: "420202198001031000", want: "420202198001031000"}, // a real 000 ending
		{in: "420202800101123", want: "420202198001011237"},    // 15-digit upgrade
		{in: "110105491231002", want: "11010519491231002X"},
		{in: "420202198001011238", err: "校验位错误（最后一位与前17位不符），请核对是否录错"},
		{in: "420202198001011000", err: "校验位错误（最后一位与前17位不符），请核对是否录错"},
		{in: "420202199902301236", err: "出生日期无效（第7至14位不是有效的出生日期）"}, // 30 Feb
		{in: "420202198013011234", err: "出生日期无效（第7至14位不是有效的出生日期）"},
		{in: "420202209901011233", err: "出生日期无效（第7至14位不是有效的出生日期）"}, // in the future
		{in: "440524188001010014", err: "出生日期无效（第7至14位不是有效的出生日期）"}, // before 1900
		{in: "420202990230123", err: "出生日期无效（第7至14位不是有效的出生日期）"},    // 15 digits, 30 Feb
		{in: "100202198001011232", err: "地区码无效（前两位不是有效的省份代码）"},
		{in: "910202198001011234", err: "地区码无效（前两位不是有效的省份代码）"},
		{in: "100202800101123", err: "地区码无效（前两位不是有效的省份代码）"},
		{in: "", err: "未填写身份证号"},
		{in: "  ", err: "未填写身份证号"},
		{in: "42020219800101123", err: "长度应为18位，现为17位"},
		{in: "4202021980010112371", err: "长度应为18位，现为19位"},
		{in: "42020219800101123A", err: "只能由数字组成（18位号码的最后一位可以是X）"},
		{in: "4202021980010X1237", err: "只能由数字组成（18位号码的最后一位可以是X）"},
		{in: "42020280010112X", err: "只能由数字组成（18位号码的最后一位可以是X）"},
		{in: "42020219800101123一", err: "只能由数字组成（18位号码的最后一位可以是X）"},
	}
	for _, tt := range tests {
		got, err := NormalizeID(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("NormalizeID(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestProvinceCodes(t *testing.T) {
	valid := map[int]bool{}
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}} {
		for n := r[0]; n <= r[1]; n++ {
			valid[n] = true
		}
	}
	for n := 0; n <= 99; n++ {
		code := string([]byte{byte('0' + n/10), byte('0' + n%10)})
		if got := validProvince(code); got != valid[n] {
			t.Errorf("validProvince(%s) = %v", code, got)
		}
	}
}
