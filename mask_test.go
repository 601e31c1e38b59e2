package shixincheck

import "testing"

func TestMaskID(t *testing.T) {
	tests := map[string]string{
		"420202198001011234": "420202********1234",
		"11010519491231002X": "110105********002X",
		"陈小明":                "***",
		"42020219800101123":  "*****************",
		"1234":               "****",
		"":                   "",
	}
	for in, want := range tests {
		if got := MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskName(t *testing.T) {
	tests := map[string]string{
		"陈小明":     "陈**",
		"陈明":      "陈*",
		"阿沛·阿旺晋美": "阿******",
		"John":    "J***",
		"":        "",
	}
	for in, want := range tests {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}
