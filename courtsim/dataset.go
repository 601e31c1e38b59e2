package courtsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Person is someone of the data set, as the side door hands them to tests.
type Person struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Records  int    `json:"records"`
}

// person is a listed person and their records.
type person struct {
	Name    string
	ID      string
	Records []*record
}

// record is one entry of the list, with every field the detail answer shows.
type record struct {
	ID            string // site id, 9 digits
	Person        *person
	CaseCode      string
	Court         court
	Reg           time.Time
	Publish       time.Time
	Age           int
	GistID        string
	GistUnit      string
	Duty          string
	Performance   string
	PerformedPart string
	UnperformPart string
	Disrupt       string
}

// dataset is the generated list. It is read-only once built.
type dataset struct {
	seed    int64
	people  []*person          // listed people, in a seed-shuffled order
	records []*record          // by regDate descending, then id
	byID    map[string]*record // site id -> record
	byName  map[string][]*person
	ids     map[string]bool // every listed ID number
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
	givens   = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力斌宇浩凯鹏婷雪琳颖欣波峰海燕飞龙云春梅志新荣成亮东晶")
	// compound surnames never used for listed people: clean people carry them.
	cleanSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙"}
	disruptTypes  = []string{
		"有履行能力而拒不履行生效法律文书确定义务",
		"违反财产报告制度",
		"违反限制消费令",
		"以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
		"以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
		"其他有履行能力而拒不履行生效法律文书确定义务",
	}
	dutyTemplates = []string{
		"被告于本判决生效之日起十日内偿还原告借款本金%d元及利息。",
		"被告于本判决生效之日起十日内支付原告货款%d元。",
		"被告于本调解书生效之日起三十日内给付原告工程款%d元。",
		"被告于本判决生效之日起十日内赔偿原告各项损失共计%d元。",
		"被申请人于本裁决书送达之日起十日内支付申请人欠款%d元。",
	}
)

var (
	firstRegDay = time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	lastRegDay  = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC) // publishDate stays within 2026
)

// generator holds the state of one data set build.
type generator struct {
	rng       *rand.Rand
	courts    []court
	basic     map[string]court // county code -> basic court
	inter     map[string]court // county code -> intermediate court of its city
	ids       map[string]bool
	masks     map[string]map[string]bool // name -> masked IDs already used for it
	caseCodes map[string]bool
	siteIDs   map[string]bool
	usedNames map[string]bool
}

func newDataset(seed int64, people int) (*dataset, error) {
	if people < 20 {
		return nil, errors.New("data set: at least 20 people")
	}
	g := &generator{
		rng:       rand.New(rand.NewPCG(uint64(seed), 0x636f75727473696d)),
		courts:    courtsFor(),
		basic:     map[string]court{},
		inter:     map[string]court{},
		ids:       map[string]bool{},
		masks:     map[string]map[string]bool{},
		caseCodes: map[string]bool{},
		siteIDs:   map[string]bool{},
		usedNames: map[string]bool{},
	}
	for _, c := range counties {
		p, _ := provinceByCode(c.Code[:2])
		for _, ct := range g.courts {
			if ct.Code == p.Abbr+c.Code[2:] {
				g.basic[c.Code] = ct
			}
			if c.City != "" && ct.Code == p.Abbr+c.Code[2:4] {
				g.inter[c.Code] = ct
			}
		}
	}

	d := &dataset{seed: seed, byID: map[string]*record{}, byName: map[string][]*person{}}
	add := func(name string, nrec int) {
		p := g.person(name)
		for range nrec {
			p.Records = append(p.Records, g.record(p))
		}
		d.people = append(d.people, p)
	}

	// Several people whose results span pages; the first has 23 records.
	multipage := min(max(people/700, 1), 8)
	for i := range multipage {
		n := 23
		if i > 0 {
			n = 11 + g.rng.IntN(25)
		}
		add(g.newName(), n)
	}
	// Deliberate namesake groups: one name, 2-3 different people, each listed.
	for range max(people/100, 1) {
		name := g.newName()
		for range 2 + g.rng.IntN(2) {
			add(name, g.recordCount())
		}
	}
	// Names that contain other names: 王芳 and 王芳芳 both listed.
	for range max(people/200, 1) {
		base := string(surnames[g.rng.IntN(len(surnames))]) + string(givens[g.rng.IntN(len(givens))])
		add(base, g.recordCount())
		add(base+string(givens[g.rng.IntN(len(givens))]), g.recordCount())
	}
	// Everyone else, with common names so natural namesakes occur.
	for len(d.people) < people {
		add(g.commonName(), g.recordCount())
	}

	g.rng.Shuffle(len(d.people), func(i, j int) { d.people[i], d.people[j] = d.people[j], d.people[i] })
	for _, p := range d.people {
		d.byName[p.Name] = append(d.byName[p.Name], p)
		for _, r := range p.Records {
			d.records = append(d.records, r)
			d.byID[r.ID] = r
		}
	}
	sort.Slice(d.records, func(i, j int) bool {
		a, b := d.records[i], d.records[j]
		if !a.Reg.Equal(b.Reg) {
			return a.Reg.After(b.Reg)
		}
		return a.ID < b.ID
	})
	d.ids = g.ids
	return d, nil
}

// commonName draws a name from common surnames and given-name characters;
// the same name comes up more than once in a large set.
func (g *generator) commonName() string {
	// Earlier surnames are more frequent, as in life.
	s := surnames[min(g.rng.IntN(len(surnames)), g.rng.IntN(len(surnames)))]
	name := string(s) + string(givens[g.rng.IntN(len(givens))])
	if g.rng.IntN(10) < 6 {
		name += string(givens[g.rng.IntN(len(givens))])
	}
	return name
}

// newName draws a three-character name not used before.
func (g *generator) newName() string {
	for {
		name := string(surnames[g.rng.IntN(len(surnames))]) + string(givens[g.rng.IntN(len(givens))]) + string(givens[g.rng.IntN(len(givens))])
		if !g.usedNames[name] {
			return name
		}
	}
}

// recordCount is 1 for most people, up to 5 for a few.
func (g *generator) recordCount() int {
	switch r := g.rng.IntN(100); {
	case r < 70:
		return 1
	case r < 85:
		return 2
	case r < 93:
		return 3
	case r < 97:
		return 4
	default:
		return 5
	}
}

// county draws a home county; Hubei counties come up three times as often.
func (g *generator) county() county {
	for {
		c := counties[g.rng.IntN(len(counties))]
		if strings.HasPrefix(c.Code, "42") || g.rng.IntN(3) == 0 {
			return c
		}
	}
}

// randomDay returns a day in [from, to].
func (g *generator) randomDay(from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours()/24) + 1
	return from.AddDate(0, 0, g.rng.IntN(days))
}

// person makes a listed person with a fresh ID whose masked form differs
// from every other listed person of the same name, so that a record can
// always be attributed by name and masked ID.
func (g *generator) person(name string) *person {
	g.usedNames[name] = true
	for {
		id := g.idNumber(g.county().Code)
		m := maskID(id)
		if g.ids[id] || g.masks[name][m] {
			continue
		}
		g.ids[id] = true
		if g.masks[name] == nil {
			g.masks[name] = map[string]bool{}
		}
		g.masks[name][m] = true
		return &person{Name: name, ID: id}
	}
}

// idNumber draws a valid ID born 1950-2000 in the given county.
func (g *generator) idNumber(region string) string {
	birth := g.randomDay(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 12, 31, 0, 0, 0, 0, time.UTC))
	return makeIDNumber(region, birth, g.rng.IntN(1000))
}

// record makes one record of p, filed by a court near p's home most of the time.
func (g *generator) record(p *person) *record {
	home := p.ID[:6]
	var ct court
	switch r := g.rng.IntN(10); {
	case r < 7:
		ct = g.basic[home]
	case r < 8:
		var ok bool
		if ct, ok = g.inter[home]; !ok {
			ct = g.basic[home]
		}
	default:
		ct = g.courts[g.rng.IntN(len(g.courts))]
	}
	birth, _ := time.Parse("20060102", p.ID[6:14])
	from := birth.AddDate(18, 0, 0)
	if from.Before(firstRegDay) {
		from = firstRegDay
	}
	reg := g.randomDay(from, lastRegDay)
	age := reg.Year() - birth.Year()
	if reg.YearDay() < birth.YearDay() {
		age--
	}
	r := &record{
		Person:  p,
		Court:   ct,
		Reg:     reg,
		Publish: reg.AddDate(0, 0, 7+g.rng.IntN(114)),
		Age:     age,
		Disrupt: disruptTypes[g.rng.IntN(len(disruptTypes))],
	}
	for {
		r.ID = fmt.Sprintf("%09d", 700000000+g.rng.IntN(299999999))
		if !g.siteIDs[r.ID] {
			g.siteIDs[r.ID] = true
			break
		}
	}
	for {
		r.CaseCode = fmt.Sprintf("(%d)%s执%d号", reg.Year(), ct.Code, 1+g.rng.IntN(9999))
		if !g.caseCodes[r.CaseCode] {
			g.caseCodes[r.CaseCode] = true
			break
		}
	}
	gistYear := reg.Year() - g.rng.IntN(2)
	r.GistID = fmt.Sprintf("(%d)%s民初%d号", gistYear, ct.Code, 1+g.rng.IntN(9999))
	r.GistUnit = ct.Name
	amount := (30 + g.rng.IntN(9000)) * 100
	r.Duty = fmt.Sprintf(dutyTemplates[g.rng.IntN(len(dutyTemplates))], amount)
	r.Performance, r.PerformedPart, r.UnperformPart = "全部未履行", "暂无", "暂无"
	if g.rng.IntN(100) < 15 {
		paid := amount / 100 * (10 + g.rng.IntN(60))
		r.Performance = "部分未履行"
		r.PerformedPart = fmt.Sprintf("已履行%d元", paid)
		r.UnperformPart = fmt.Sprintf("未履行%d元", amount-paid)
	}
	return r
}

// search returns the records whose name contains name, narrowed to one
// province unless provinceCode is "" or "0", in the site's order.
func (d *dataset) search(name, provinceCode string) []*record {
	var out []*record
	for _, r := range d.records {
		if !strings.Contains(r.Person.Name, name) {
			continue
		}
		if provinceCode != "" && provinceCode != "0" && r.Court.Province.Code != provinceCode {
			continue
		}
		out = append(out, r)
	}
	return out
}

// peopleOf returns up to n people of a kind; see Sim.People.
func (d *dataset) peopleOf(kind string, n int) ([]Person, error) {
	if n < 1 {
		return nil, fmt.Errorf("people: n must be at least 1, got %d", n)
	}
	var out []Person
	switch kind {
	case "listed", "multipage":
		for _, p := range d.people {
			if len(out) == n {
				break
			}
			if kind == "multipage" && len(p.Records) <= 10 {
				continue
			}
			out = append(out, Person{Name: p.Name, IDNumber: p.ID, Records: len(p.Records)})
		}
	case "namesake":
		out = d.namesakes(n)
	case "clean":
		out = d.clean(n)
	default:
		return nil, fmt.Errorf("people: unknown kind %q (listed, namesake, clean, multipage)", kind)
	}
	if out == nil {
		out = []Person{} // an empty JSON array, not null
	}
	return out, nil
}

// namesakes makes up, for the first n distinct listed names, a person of
// that name whose masked ID differs from every listed record of the name.
// The sequence depends on the seed only, so a shorter list is a prefix of a longer one.
func (d *dataset) namesakes(n int) []Person {
	g := &generator{rng: rand.New(rand.NewPCG(uint64(d.seed), 0x6e616d6573616b65))}
	seen := map[string]bool{}
	var out []Person
	for _, p := range d.people {
		if len(out) == n {
			break
		}
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		taken := map[string]bool{}
		for _, q := range d.byName[p.Name] {
			taken[maskID(q.ID)] = true
		}
		for {
			id := g.idNumber(g.countyAny().Code)
			if !d.ids[id] && !taken[maskID(id)] {
				out = append(out, Person{Name: p.Name, IDNumber: id})
				break
			}
		}
	}
	return out
}

// clean makes up n people whose names no listed name contains, so a
// search for them finds nothing.
func (d *dataset) clean(n int) []Person {
	g := &generator{rng: rand.New(rand.NewPCG(uint64(d.seed), 0x636c65616e))}
	seen := map[string]bool{}
	var out []Person
	for tries := 0; len(out) < n && tries < 50*n; tries++ {
		name := cleanSurnames[g.rng.IntN(len(cleanSurnames))] + string(givens[g.rng.IntN(len(givens))])
		if g.rng.IntN(2) == 0 {
			name += string(givens[g.rng.IntN(len(givens))])
		}
		if seen[name] || d.anyNameContains(name) {
			continue
		}
		seen[name] = true
		id := g.idNumber(g.countyAny().Code)
		if d.ids[id] {
			continue
		}
		out = append(out, Person{Name: name, IDNumber: id})
	}
	return out
}

// countyAny draws any county of the table.
func (g *generator) countyAny() county {
	return counties[g.rng.IntN(len(counties))]
}

func (d *dataset) anyNameContains(name string) bool {
	for n := range d.byName {
		if strings.Contains(n, name) {
			return true
		}
	}
	return false
}

// pageOf returns page currentPage (1 when missing or bad) of found, size rows
// a page, and the number of pages: 1 for none and for one page, as the site says.
func pageOf(found []*record, currentPage string, size int) (page, totalPage int, rows []*record) {
	page, err := strconv.Atoi(currentPage)
	if err != nil || page < 1 {
		page = 1
	}
	from := min((page-1)*size, len(found))
	return page, max(1, (len(found)+size-1)/size), found[from:min(from+size, len(found))]
}
