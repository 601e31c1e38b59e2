package rules

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shixincheck/shixincheck"
)

// CalendarDay corrects one day of the working-day calendar: a day off, or a
// make-up working day (调休).
type CalendarDay struct {
	Date string // YYYY-MM-DD, a valid date (Beijing, as the workdays package reads it)
	Work bool   // true: a working day; false: a day off
	Name string // what the day is, e.g. 国庆节调休 (optional)
}

// Years accepted in known_years: anything else is a typo.
const minYear, maxYear = 2000, 2099

// Load reads and validates a rules file.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Parse(data, path)
}

// Parse validates a rules file's content. name labels the file in errors,
// which read "name:line: reason".
func Parse(data []byte, name string) (*Rules, error) {
	p := parser{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errorAt(1, "the file is empty")
		}
		return nil, p.syntax(err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.syntax(err)
		}
		return nil, p.errorAt(more.Line, "a second document (---): the file must hold one")
	}
	if len(doc.Content) == 0 {
		return nil, p.errorAt(1, "the file is empty")
	}
	r, err := p.rules(doc.Content[0])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	r.Digest = hex.EncodeToString(sum[:6])
	return r, nil
}

// fileError is a rules file refused at a line.
type fileError struct {
	file   string
	line   int // 0 when yaml did not say
	reason string
}

func (e *fileError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("%s: %s", e.file, e.reason)
	}
	return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.reason)
}

type parser struct {
	file string
}

func (p *parser) errorAt(line int, format string, args ...any) error {
	return &fileError{file: p.file, line: line, reason: fmt.Sprintf(format, args...)}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return p.errorAt(n.Line, format, args...)
}

// syntax turns yaml's "yaml: line 3: reason" into "file:3: reason"; some of
// yaml's errors carry no line.
func (p *parser) syntax(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, reason, ok := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); ok && err == nil {
			return p.errorAt(line, "%s", reason)
		}
	}
	return p.errorAt(0, "%s", msg)
}

func (p *parser) rules(n *yaml.Node) (*Rules, error) {
	top, err := p.mapping(n, "", "", "the file")
	if err != nil {
		return nil, err
	}
	if err := p.only(top, "version", "items", "calendar"); err != nil {
		return nil, err
	}
	r := &Rules{}
	if r.Version, err = p.text(top, "version"); err != nil {
		return nil, err
	}
	items, ok := top.values["items"]
	if !ok {
		return nil, p.errorf(top.node, "items is missing")
	}
	list, err := p.list(items, "", "items")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, p.errorf(items, "items is empty")
	}
	seen := map[string]wording{}
	for i, n := range list {
		it, err := p.item(n, i, seen)
		if err != nil {
			return nil, err
		}
		r.Items = append(r.Items, it)
	}
	if cal, ok := top.values["calendar"]; ok {
		var lines map[string]int
		if r.Calendar, r.KnownYears, lines, err = p.calendar(cal); err != nil {
			return nil, err
		}
		for date, line := range lines {
			if r.dayAt == nil {
				r.dayAt = map[string]string{}
			}
			r.dayAt[date] = fmt.Sprintf("%s:%d", p.file, line)
		}
	}
	return r, nil
}

// wording is where a name or alias was first used, to refuse a second use.
type wording struct {
	kind  string // "name" or "alias"
	index int    // of the item in the list
	item  string
	line  int
}

func (w wording) phrase() string {
	if w.kind == "name" {
		return "the name"
	}
	return "an alias"
}

func (p *parser) item(n *yaml.Node, i int, seen map[string]wording) (Item, error) {
	m, err := p.mapping(n, "", "", fmt.Sprintf("item %d", i+1))
	if err != nil {
		return Item{}, err
	}
	m.ctx = fmt.Sprintf("item %d: ", i+1) // until its name is known
	keys := []string{"name", "aliases", "stage", "frequency", "departments", "measures"}
	var it Item
	if it.Name, err = p.text(m, "name"); err != nil {
		return Item{}, cmp.Or(p.only(m, keys...), err) // a misspelt key says more than a missing name
	}
	m.ctx = fmt.Sprintf("item %q: ", it.Name)
	if err := p.only(m, keys...); err != nil {
		return Item{}, err
	}
	if err := p.claim(seen, "name", it.Name, i, it.Name, m.values["name"], m.ctx); err != nil {
		return Item{}, err
	}
	if a, ok := m.values["aliases"]; ok {
		list, err := p.list(a, m.ctx, "aliases")
		if err != nil {
			return Item{}, err
		}
		for _, an := range list {
			alias, err := p.scalar(an, m.ctx, "aliases")
			if err != nil {
				return Item{}, err
			}
			if alias == "" {
				return Item{}, p.errorf(an, "%san alias is empty", m.ctx)
			}
			if err := p.claim(seen, "alias", alias, i, it.Name, an, m.ctx); err != nil {
				return Item{}, err
			}
			it.Aliases = append(it.Aliases, alias)
		}
	}
	for _, f := range []struct {
		key string
		to  *string
	}{{"stage", &it.Stage}, {"frequency", &it.Frequency}, {"departments", &it.Departments}} {
		if *f.to, err = p.text(m, f.key); err != nil {
			return Item{}, err
		}
	}
	mn, ok := m.values["measures"]
	if !ok {
		return Item{}, p.errorf(m.node, "%smeasures is missing", m.ctx)
	}
	ms, err := p.mapping(mn, m.ctx, "measures.", "measures")
	if err != nil {
		return Item{}, err
	}
	if err := p.only(ms, "listed", "clear", "unchecked"); err != nil {
		return Item{}, err
	}
	if it.Listed, err = p.text(ms, "listed"); err != nil {
		return Item{}, err
	}
	if it.Clear, err = p.text(ms, "clear"); err != nil {
		return Item{}, err
	}
	it.Unchecked = shixincheck.NeedsPerson
	if un, ok := ms.values["unchecked"]; ok {
		if it.Unchecked, err = p.text(ms, "unchecked"); err != nil {
			return Item{}, err
		}
		// An unfinished check must never read as a finished one.
		for _, f := range []struct{ key, measure string }{{"listed", it.Listed}, {"clear", it.Clear}} {
			if fold(it.Unchecked) == fold(f.measure) {
				return Item{}, p.errorf(un, "%smeasures.unchecked is the same as measures.%s: a check that could not be completed must not read as one that was", m.ctx, f.key)
			}
		}
	}
	return it, nil
}

// claim refuses a name or alias that, compared as Lookup compares, is
// already an item's name or alias: Lookup would pick one silently.
func (p *parser) claim(seen map[string]wording, kind, text string, index int, item string, n *yaml.Node, ctx string) error {
	key := fold(text)
	if w, ok := seen[key]; ok {
		if w.index == index {
			return p.errorf(n, "%s%s %q repeats %s of this item (line %d)", ctx, kind, text, w.phrase(), w.line)
		}
		return p.errorf(n, "%s%s %q is already %s of item %q (line %d)", ctx, kind, text, w.phrase(), w.item, w.line)
	}
	seen[key] = wording{kind: kind, index: index, item: item, line: n.Line}
	return nil
}

// calendar reads the calendar part; lines gives the line of each day.
func (p *parser) calendar(n *yaml.Node) (days []CalendarDay, years []int, lines map[string]int, err error) {
	m, err := p.mapping(n, "", "calendar.", "calendar")
	if err != nil {
		return nil, nil, nil, err
	}
	if err := p.only(m, "days", "known_years"); err != nil {
		return nil, nil, nil, err
	}
	if dn, ok := m.values["days"]; ok {
		list, err := p.list(dn, "", "calendar.days")
		if err != nil {
			return nil, nil, nil, err
		}
		lines = map[string]int{}
		for _, n := range list {
			d, err := p.day(n)
			if err != nil {
				return nil, nil, nil, err
			}
			if line, ok := lines[d.Date]; ok {
				return nil, nil, nil, p.errorf(n, "calendar: date %s is listed twice (first at line %d)", d.Date, line)
			}
			lines[d.Date] = n.Line
			days = append(days, d)
		}
	}
	if yn, ok := m.values["known_years"]; ok {
		list, err := p.list(yn, "", "calendar.known_years")
		if err != nil {
			return nil, nil, nil, err
		}
		seen := map[int]bool{}
		for _, n := range list {
			s, err := p.scalar(n, "", "calendar.known_years")
			if err != nil {
				return nil, nil, nil, err
			}
			y, err := strconv.Atoi(s)
			if err != nil || y < minYear || y > maxYear {
				return nil, nil, nil, p.errorf(n, "calendar: known year %q is not a year from %d to %d", s, minYear, maxYear)
			}
			if seen[y] {
				return nil, nil, nil, p.errorf(n, "calendar: known year %d is listed twice", y)
			}
			seen[y] = true
			years = append(years, y)
		}
	}
	return days, years, lines, nil
}

func (p *parser) day(n *yaml.Node) (CalendarDay, error) {
	m, err := p.mapping(n, "calendar: ", "", "a day")
	if err != nil {
		return CalendarDay{}, err
	}
	keys := []string{"date", "work", "name"}
	s, err := p.text(m, "date")
	if err != nil {
		return CalendarDay{}, cmp.Or(p.only(m, keys...), err)
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return CalendarDay{}, p.errorf(m.values["date"], "calendar: date %q is not a date like 2026-10-10", s)
	}
	m.ctx = "calendar: " + s + ": "
	if err := p.only(m, keys...); err != nil {
		return CalendarDay{}, err
	}
	wn, ok := m.values["work"]
	if !ok {
		return CalendarDay{}, p.errorf(n, "%swork is missing (true: a working day, false: a day off)", m.ctx)
	}
	wn = deref(wn)
	var work bool
	if wn.Kind != yaml.ScalarNode || wn.ShortTag() != "!!bool" || wn.Decode(&work) != nil {
		return CalendarDay{}, p.errorf(wn, "%swork must be true or false", m.ctx)
	}
	d := CalendarDay{Date: s, Work: work}
	if _, ok := m.values["name"]; ok {
		if d.Name, err = p.text(m, "name"); err != nil {
			return CalendarDay{}, err
		}
	}
	return d, nil
}

// mapping is a YAML mapping read for its keys, in file order.
type mapping struct {
	node   *yaml.Node
	ctx    string // what errors are about, e.g. `item "X": `
	path   string // prefix of its keys in errors, e.g. "measures."
	keys   []*yaml.Node
	values map[string]*yaml.Node // the first value of each key
}

// mapping reads a mapping node; what names it in the error if it is not one.
func (p *parser) mapping(n *yaml.Node, ctx, path, what string) (mapping, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return mapping{}, p.errorf(n, "%s%s must be a mapping (key: value)", ctx, what)
	}
	m := mapping{node: n, ctx: ctx, path: path, values: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return mapping{}, p.errorf(k, "%sa key must be a plain word", ctx)
		}
		m.keys = append(m.keys, k)
		if _, ok := m.values[k.Value]; !ok {
			m.values[k.Value] = v
		}
	}
	return m, nil
}

// only refuses the first key, in file order, that is not allowed or is
// repeated (yaml.v3 accepts repeated keys in a Node without a word).
func (p *parser) only(m mapping, allowed ...string) error {
	first := map[string]int{} // key -> line
	for _, k := range m.keys {
		if line, ok := first[k.Value]; ok {
			return p.errorf(k, "%skey %q is repeated (first at line %d)", m.ctx, m.path+k.Value, line)
		}
		first[k.Value] = k.Line
		if !slices.Contains(allowed, k.Value) {
			return p.errorf(k, "%sunknown key %q", m.ctx, m.path+k.Value)
		}
	}
	return nil
}

// text reads a required, non-empty text.
func (p *parser) text(m mapping, key string) (string, error) {
	v, ok := m.values[key]
	if !ok {
		return "", p.errorf(m.node, "%s%s is missing", m.ctx, m.path+key)
	}
	s, err := p.scalar(v, m.ctx, m.path+key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", p.errorf(v, "%s%s is empty", m.ctx, m.path+key)
	}
	return s, nil
}

// scalar reads a single value as text, trimmed; null reads as "".
func (p *parser) scalar(n *yaml.Node, ctx, what string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", p.errorf(n, "%s%s must be a single value, not a list or mapping", ctx, what)
	}
	if n.ShortTag() == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(n.Value), nil
}

// list reads a sequence; null reads as an empty list.
func (p *parser) list(n *yaml.Node, ctx, what string) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s%s must be a list", ctx, what)
	}
	return n.Content, nil
}

// deref follows YAML aliases (*anchor) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
