package courtsim

// province is one of the 31 provincial-level regions as the site's 省份 select lists them.
type province struct {
	Code   string // 2-digit region code, the value of the pProvince option
	Name   string // short name, as shown in the select and in areaName
	Abbr   string // one-character abbreviation used in case numbers (鄂)
	Suffix string // suffix of the full name (省, 市, 自治区) used in court names
}

// provinces lists the 31 provinces in the order of the region code.
var provinces = []province{
	{"11", "北京", "京", "市"}, {"12", "天津", "津", "市"}, {"13", "河北", "冀", "省"}, {"14", "山西", "晋", "省"},
	{"15", "内蒙古", "蒙", "自治区"}, {"21", "辽宁", "辽", "省"}, {"22", "吉林", "吉", "省"}, {"23", "黑龙江", "黑", "省"},
	{"31", "上海", "沪", "市"}, {"32", "江苏", "苏", "省"}, {"33", "浙江", "浙", "省"}, {"34", "安徽", "皖", "省"},
	{"35", "福建", "闽", "省"}, {"36", "江西", "赣", "省"}, {"37", "山东", "鲁", "省"}, {"41", "河南", "豫", "省"},
	{"42", "湖北", "鄂", "省"}, {"43", "湖南", "湘", "省"}, {"44", "广东", "粤", "省"}, {"45", "广西", "桂", "壮族自治区"},
	{"46", "海南", "琼", "省"}, {"50", "重庆", "渝", "市"}, {"51", "四川", "川", "省"}, {"52", "贵州", "黔", "省"},
	{"53", "云南", "滇", "省"}, {"54", "西藏", "藏", "自治区"}, {"61", "陕西", "陕", "省"}, {"62", "甘肃", "甘", "省"},
	{"63", "青海", "青", "省"}, {"64", "宁夏", "宁", "回族自治区"}, {"65", "新疆", "新", "维吾尔自治区"},
}

// county is a real county-level division: its code starts ID numbers of the
// people born there and names the basic court sitting there.
type county struct {
	Code string // 6-digit administrative division code (GB/T 2260)
	City string // prefecture-level city, "" for the districts of a municipality
	Name string // 西塞山区
}

// counties is a small table of real county codes of several provinces.
// Hubei weighs more: the office that runs the checks is in Huangshi.
var counties = []county{
	{"110101", "", "东城区"}, {"110102", "", "西城区"}, {"110105", "", "朝阳区"}, {"110106", "", "丰台区"}, {"110108", "", "海淀区"},
	{"310101", "", "黄浦区"}, {"310104", "", "徐汇区"}, {"310105", "", "长宁区"}, {"310106", "", "静安区"}, {"310115", "", "浦东新区"},
	{"320102", "南京市", "玄武区"}, {"320104", "南京市", "秦淮区"}, {"320106", "南京市", "鼓楼区"}, {"320506", "苏州市", "吴中区"}, {"320508", "苏州市", "姑苏区"},
	{"330102", "杭州市", "上城区"}, {"330105", "杭州市", "拱墅区"}, {"330106", "杭州市", "西湖区"},
	{"370102", "济南市", "历下区"}, {"370103", "济南市", "市中区"}, {"370202", "青岛市", "市南区"}, {"370203", "青岛市", "市北区"},
	{"410102", "郑州市", "中原区"}, {"410103", "郑州市", "二七区"}, {"410105", "郑州市", "金水区"}, {"410305", "洛阳市", "涧西区"},
	{"420102", "武汉市", "江岸区"}, {"420103", "武汉市", "江汉区"}, {"420104", "武汉市", "硚口区"}, {"420105", "武汉市", "汉阳区"},
	{"420106", "武汉市", "武昌区"}, {"420111", "武汉市", "洪山区"},
	{"420202", "黄石市", "黄石港区"}, {"420203", "黄石市", "西塞山区"}, {"420204", "黄石市", "下陆区"}, {"420205", "黄石市", "铁山区"},
	{"420222", "黄石市", "阳新县"}, {"420281", "黄石市", "大冶市"},
	{"420302", "十堰市", "茅箭区"}, {"420303", "十堰市", "张湾区"}, {"420502", "宜昌市", "西陵区"}, {"420503", "宜昌市", "伍家岗区"},
	{"420602", "襄阳市", "襄城区"}, {"420606", "襄阳市", "樊城区"},
	{"430102", "长沙市", "芙蓉区"}, {"430103", "长沙市", "天心区"}, {"430104", "长沙市", "岳麓区"},
	{"440103", "广州市", "荔湾区"}, {"440104", "广州市", "越秀区"}, {"440106", "广州市", "天河区"},
	{"440303", "深圳市", "罗湖区"}, {"440304", "深圳市", "福田区"}, {"440305", "深圳市", "南山区"},
	{"510104", "成都市", "锦江区"}, {"510105", "成都市", "青羊区"}, {"510106", "成都市", "金牛区"}, {"510107", "成都市", "武侯区"},
}

// provinceByCode finds a province by its 2-digit code.
func provinceByCode(code string) (province, bool) {
	for _, p := range provinces {
		if p.Code == code {
			return p, true
		}
	}
	return province{}, false
}

// court is a court that registers enforcement cases.
type court struct {
	Name     string   // 黄石市西塞山区人民法院
	Code     string   // court part of the case number: 鄂0203
	Province province // where it sits
}

// courtsFor builds the basic court of every county and the intermediate
// court of every prefecture-level city in the table.
// [sim choice] the court code of a case number is the province abbreviation
// plus the last four digits of the county code (鄂0203), or the city's two
// digits for an intermediate court (鄂02).
func courtsFor() []court {
	var out []court
	seenCity := map[string]bool{}
	for _, c := range counties {
		p, _ := provinceByCode(c.Code[:2])
		cityName := c.City
		if cityName == "" {
			cityName = p.Name + p.Suffix
		}
		out = append(out, court{Name: cityName + c.Name + "人民法院", Code: p.Abbr + c.Code[2:], Province: p})
		if c.City != "" && !seenCity[c.City] {
			seenCity[c.City] = true
			out = append(out, court{Name: c.City + "中级人民法院", Code: p.Abbr + c.Code[2:4], Province: p})
		}
	}
	return out
}
