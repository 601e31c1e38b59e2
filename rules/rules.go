// Package rules maps an application item (应用事项) and the outcome of a
// check to the measure (应用措施) the office's plan prescribes. The items and
// measures are read from a YAML rules file, so the office can change them
// without a rebuild; Default is the seed plan's list.
package rules

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/shixincheck/shixincheck"
)

// ErrUnknownItem is returned for an application item the rules do not list.
var ErrUnknownItem = errors.New("unknown application item")

// Item is one application item of the office's list (Attachment 1) and its
// measures.
type Item struct {
	Name        string   // 应用事项 as written in the ledger and workbook
	Aliases     []string // other wordings clerks use
	Stage       string   // 核查环节
	Frequency   string   // 应用频率
	Departments string   // 应用科室
	Listed      string   // measure when the person is listed
	Clear       string   // measure when not listed
	Unchecked   string   // measure when the check could not be completed (default shixincheck.NeedsPerson)
}

// Rules is a versioned set of application items, read from a rules file
// (see default.yaml), with the office's corrections to the working-day
// calendar.
type Rules struct {
	Version    string
	Digest     string // the first 12 hex digits of the file's SHA-256: tells apart two files with one version
	Items      []Item
	Calendar   []CalendarDay     // days off and make-up working days the office sets
	KnownYears []int             // years the office declares the calendar known for
	dayAt      map[string]string // date -> "file:line" of the calendar days
}

// Where names the line of the rules file that sets a calendar day
// ("file:line"), for a message about the day; "" for a day it does not set.
func (r *Rules) Where(date string) string { return r.dayAt[date] }

// Stamp is what a check keeps of the rules it was judged under: the
// version the office wrote and the digest of the file, "version@digest".
func (r *Rules) Stamp() string { return r.Version + "@" + r.Digest }

//go:embed default.yaml
var defaultYAML []byte

// Default returns the rules of the seed plan (政协黄石市委员会办公室,
// 2020-07-06, Attachments 1 and 2), as written in the embedded default.yaml.
func Default() *Rules {
	r, err := Parse(defaultYAML, "default.yaml")
	if err != nil {
		panic("rules: the embedded default.yaml is broken: " + err.Error()) // a build mistake; a test guards it
	}
	return r
}

// Lookup finds an item by its name or an alias. Spaces are ignored and
// full-width forms match half-width ones, so （楷模） matches (楷模).
func (r *Rules) Lookup(name string) (Item, bool) {
	key := fold(name)
	for _, it := range r.Items {
		if fold(it.Name) == key {
			return it, true
		}
		for _, a := range it.Aliases {
			if fold(a) == key {
				return it, true
			}
		}
	}
	return Item{}, false
}

// Resolve is Lookup for intake (roster.Options.LookupItem): the official
// name of the item text names, or ok false and the message for the clerk.
func (r *Rules) Resolve(text string) (name, problem string, ok bool) {
	if it, found := r.Lookup(text); found {
		return it.Name, "", true
	}
	return "", r.UnknownItem(text), false
}

// UnknownItem is the message, for a clerk, about an item Lookup does not
// find. A text naming several items at once gets those items to choose
// from: Attachment 1 lists "向上推荐道德模范（楷模）、劳动模范及其他评优评先，
// 优秀政协委员评选" as one line, but their measures differ, so they are two
// items here. Any other text gets the list of items.
func (r *Rules) UnknownItem(name string) string {
	key := fold(name)
	var named []string
	for _, it := range r.Items {
		for _, n := range append([]string{it.Name}, it.Aliases...) {
			if f := fold(n); f != "" && strings.Contains(key, f) {
				named = append(named, "“"+it.Name+"”")
				break
			}
		}
	}
	if len(named) >= 2 {
		choices := strings.Join(named[:len(named)-1], "、") + "或" + named[len(named)-1]
		return fmt.Sprintf("“%s”包含%d个应用事项，每行只能填写一个：请改为%s（同一人要核查其中几项的，每项填写一行）",
			strings.TrimSpace(name), len(named), choices)
	}
	return "未知的应用事项：" + strings.TrimSpace(name) + "（可选：" + strings.Join(r.Names(), "；") + "）"
}

// Measure returns the measure for an outcome of a check for item. Only a
// listed or clear outcome gets an automatic measure: a check that needs
// review or failed gets the item's Unchecked measure, NeedsPerson by default.
func (r *Rules) Measure(item string, o shixincheck.Outcome) (string, error) {
	it, ok := r.Lookup(item)
	if !ok {
		return "", fmt.Errorf("rules: %w %q", ErrUnknownItem, item)
	}
	var m string
	switch o {
	case shixincheck.OutcomeListed:
		m = it.Listed
	case shixincheck.OutcomeClear:
		m = it.Clear
	case shixincheck.OutcomeReview, shixincheck.OutcomeFailed:
		if it.Unchecked == "" {
			return shixincheck.NeedsPerson, nil
		}
		return it.Unchecked, nil
	default:
		return "", fmt.Errorf("rules: unknown outcome %q", o)
	}
	if m == "" {
		return "", fmt.Errorf("rules: item %q has no measure for outcome %q", it.Name, o)
	}
	return m, nil
}

// Names returns the items' names in order.
func (r *Rules) Names() []string {
	names := make([]string, len(r.Items))
	for i, it := range r.Items {
		names[i] = it.Name
	}
	return names
}

// fold makes item names comparable: no spaces, full-width forms half-width.
func fold(s string) string {
	return width.Fold.String(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

// Departments lists the departments the items name (应用科室), in order of
// first appearance: "政工科、委员工委（按职责分工负责）" names 政工科 and 委员工委.
func (r *Rules) Departments() []string {
	var out []string
	for _, it := range r.Items {
		for _, d := range departmentsOf(it) {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// ItemsOf returns the names of the items a department is responsible for.
func (r *Rules) ItemsOf(department string) []string {
	var out []string
	for _, it := range r.Items {
		if slices.Contains(departmentsOf(it), department) {
			out = append(out, it.Name)
		}
	}
	return out
}

// departmentsOf splits an item's 应用科室 into department names, dropping
// remarks in brackets.
func departmentsOf(it Item) []string {
	s := width.Fold.String(it.Departments)
	for {
		open := strings.IndexByte(s, '(')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], ')')
		if end < 0 {
			s = s[:open]
			break
		}
		s = s[:open] + s[open+end+1:]
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == '、' || r == ',' || r == ';' || unicode.IsSpace(r) })
}
