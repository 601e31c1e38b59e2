package roster

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "陈明", want: "陈明"},
		{in: "  陈小明\u3000", want: "陈小明"},
		{in: "王　五", want: "王五"},
		{in: "王  五 ", want: "王五"},
		{in: "阿沛·阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛・阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛•阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛‧阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛∙阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛．阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "阿沛 · 阿旺晋美", want: "阿沛·阿旺晋美"},
		{in: "John  Smith", want: "John Smith"},
		{in: "Ｊｏｈｎ\u00a0Ｓｍｉｔｈ", want: "John Smith"},
		{in: "José García", want: "José García"},
		{in: "Jose\u0301", want: "José"}, // combining accent composed
		{in: "", err: "未填写姓名"},
		{in: " \u3000 ", err: "未填写姓名"},
		{in: "陈", err: "姓名应为2至30个字，现为1个字"},
		{in: "陈" + strings.Repeat("明", 30), err: "姓名应为2至30个字，现为31个字"},
		{in: "陈" + strings.Repeat("明", 29), want: "陈" + strings.Repeat("明", 29)},
		{in: "陈明2", err: "姓名不能包含数字"},
		{in: "陈明２", err: "姓名不能包含数字"},
		{in: "·阿沛", err: "间隔号“·”只能用在两个字之间"},
		{in: "阿沛·", err: "间隔号“·”只能用在两个字之间"},
		{in: "阿沛··阿旺", err: "间隔号“·”只能用在两个字之间"},
		{in: "陈明（女）", err: "姓名含有不能使用的字符“(”"},
		{in: "=陈明", err: "姓名含有不能使用的字符“=”"},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("NormalizeName(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
