package workbook

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// templateSheet is the list a clerk fills in. Its headers are those the
// roster reader looks for.
var templateSheet = sheet{name: "名单", headerRow: 1, idCol: 3, columns: []column{
	{"序号", 8},
	{"姓名", 14},
	{"身份证号", 24},
	{"应用事项", 44},
	{"备注", 26},
}}

const (
	instructionsSheet = "填写说明"
	// templateRows is how many people the drop-down covers: the roster
	// reader's limit (roster.MaxRows; a test keeps the two equal).
	templateRows = 20000
	// The example row. Its 备注 starts with 示例, which the reader refuses
	// with a message saying to delete the row. The ID is made up, with a
	// valid check digit.
	exampleName   = "张三"
	exampleID     = "110101199003071233"
	exampleRemark = "示例（请删除此行）"
)

// instructions are the lines of the sheet 填写说明, above the list of items.
var instructions = []string{
	"名单填写说明",
	"1. 每行填写一名被核查人员；同一人需要核查多个应用事项的，每个事项填写一行。",
	"2. 姓名：按身份证填写；少数民族姓名中的间隔号请用“·”，如“阿沛·阿旺晋美”。",
	"3. 身份证号：本列已设置为文本格式，请直接输入或粘贴18位身份证号，末位的x大小写均可；15位的旧身份证号也可以填写，系统会自动转换为18位。",
	"4. 请勿把身份证号列改为“常规”或“数值”格式：Excel 的数字只保留15位，身份证号的后几位会变成0，且无法还原。从其他表格复制时，请用“选择性粘贴”→“值”，或“匹配目标格式”粘贴。",
	"5. 应用事项：从下拉列表中选择；不填写的，按上传时选择的应用事项核查。",
	"6. 备注：可填写其他说明，不影响核查；但不要以“示例”二字开头，这样的行会被当作模板的示例行而拒绝上传。",
	"7. 第2行是示例，上传前请删除该行。",
	"8. 每个文件最多" + strconv.Itoa(templateRows) + "人、不超过20MB；人数更多时请拆分成几个文件上传。",
	"9. 请保存为 Excel 工作簿（.xlsx）格式上传，不要另存为旧版的 .xls 格式。",
}

// Template writes the list template clerks download: the sheet 名单 with
// the columns 序号, 姓名, 身份证号 (formatted as text), 应用事项 (a
// drop-down of items) and 备注, an example row to delete, and the sheet
// 填写说明 with instructions and the items.
func Template(w io.Writer, items []string) error {
	x, st, err := newFile(templateSheet.name)
	if err != nil {
		return err
	}
	defer x.Close()
	if err := writeInstructions(x, st, items); err != nil {
		return fmt.Errorf("workbook: template instructions: %w", err)
	}
	if err := writeTemplateList(x, st, items); err != nil {
		return fmt.Errorf("workbook: template list: %w", err)
	}
	x.SetActiveSheet(0)
	if err := x.Write(w); err != nil {
		return fmt.Errorf("workbook: write template: %w", err)
	}
	return nil
}

// itemsRow is the row of the first item on the instructions sheet.
var itemsRow = len(instructions) + 3

func writeInstructions(x *excelize.File, st styles, items []string) error {
	if _, err := x.NewSheet(instructionsSheet); err != nil {
		return err
	}
	col := []column{{"", 100}}
	if err := x.SetColWidth(instructionsSheet, "A", "A", col[0].width); err != nil {
		return err
	}
	wrapped, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Size: 11, Family: "宋体"}, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	if err != nil {
		return err
	}
	lines := slices.Concat(instructions, []string{"", "可选的应用事项："}, items)
	for i, line := range lines {
		ref := "A" + strconv.Itoa(i+1)
		if err := x.SetCellStr(instructionsSheet, ref, line); err != nil {
			return err
		}
		style, height := wrapped, rowHeight(col, []string{line})
		if i == 0 {
			style, height = st.title, 36
		}
		if err := x.SetCellStyle(instructionsSheet, ref, ref, style); err != nil {
			return err
		}
		if err := x.SetRowHeight(instructionsSheet, i+1, height); err != nil {
			return err
		}
	}
	return nil
}

func writeTemplateList(x *excelize.File, st styles, items []string) error {
	s := templateSheet
	if err := setupPage(x, s); err != nil {
		return err
	}
	for i, c := range s.columns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := x.SetColWidth(s.name, col, col, c.width); err != nil {
			return err
		}
	}
	// Text format on the whole ID column, so that every ID typed or pasted
	// keeps its 18 characters.
	text, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Size: 11, Family: "宋体"}, NumFmt: textFmt})
	if err != nil {
		return err
	}
	idCol, _ := excelize.ColumnNumberToName(s.idCol)
	if err := x.SetColStyle(s.name, idCol, text); err != nil {
		return err
	}
	example, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Size: 11, Family: "宋体", Italic: true, Color: "808080"}, NumFmt: textFmt})
	if err != nil {
		return err
	}
	item := ""
	if len(items) > 0 {
		item = items[0]
	}
	rows := [][]string{headers(s), {"1", exampleName, exampleID, item, exampleRemark}}
	for r, values := range rows {
		for c, v := range values {
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := x.SetCellStr(s.name, ref, v); err != nil {
				return err
			}
			style := st.header
			if r > 0 {
				style = example
			}
			if err := x.SetCellStyle(s.name, ref, ref, style); err != nil {
				return err
			}
		}
	}
	if err := x.SetRowHeight(s.name, 1, 24); err != nil {
		return err
	}
	if err := x.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	// The items are listed on the instructions sheet and the drop-down
	// refers to them there: a list typed into the validation itself is
	// limited to 255 characters.
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("D2:D%d", templateRows+1)
	dv.SetSqrefDropList(fmt.Sprintf("'%s'!$A$%d:$A$%d", instructionsSheet, itemsRow, itemsRow+len(items)-1))
	dv.SetInput("应用事项", "从下拉列表中选择；不填写的，按上传时选择的应用事项核查")
	dv.SetError(excelize.DataValidationErrorStyleStop, "应用事项", "请从下拉列表中选择应用事项")
	return x.AddDataValidation(s.name, dv)
}

func headers(s sheet) []string {
	h := make([]string, len(s.columns))
	for i, c := range s.columns {
		h[i] = c.header
	}
	return h
}
