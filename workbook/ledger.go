package workbook

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// ledgerSheet is the ledger (台账) export: what the plan asks the ledger to
// record (stage, person, result, measure) with the batch and rule version
// that trace each decision back.
var ledgerSheet = sheet{name: "台账", headerRow: 1, idCol: 5, columns: []column{
	{"批次", 19},
	{"应用事项", 24},
	{"核查环节", 14},
	{"查询对象", 10},
	{"身份证号", 22},
	{"查询渠道", 14},
	{"查询结果", 22},
	{"查询时间", 21},
	{"应用措施", 18},
	{"规则版本", 16},
}}

// LedgerRow is one check of the ledger as exported.
type LedgerRow struct {
	BatchID     string
	Item        string // 应用事项
	Stage       string // 核查环节 the check was judged under
	Name        string
	IDNumber    string
	Channel     string // 查询渠道 as recorded with the check
	Result      string // 查询结果, shixincheck.ResultText
	QueriedAt   time.Time
	Measure     string // 应用措施
	RuleVersion string
}

// WriteLedger writes rows as an .xlsx workbook with the one sheet 台账.
// maskIDs shows ID numbers as 420202********1234.
func WriteLedger(w io.Writer, rows []LedgerRow, maskIDs bool) error {
	x, st, err := newFile(ledgerSheet.name)
	if err != nil {
		return err
	}
	defer x.Close()
	err = addSheet(x, st, ledgerSheet, func(sw *excelize.StreamWriter) error {
		if err := writeHeader(sw, st, ledgerSheet); err != nil {
			return err
		}
		d := newDataRows(sw, st, ledgerSheet)
		for _, r := range rows {
			if err := d.add(r.BatchID, r.Item, r.Stage, r.Name, showID(r.IDNumber, maskIDs), r.Channel, r.Result,
				formatTime(r.QueriedAt), r.Measure, r.RuleVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := x.Write(w); err != nil {
		return fmt.Errorf("workbook: write file: %w", err)
	}
	return nil
}

// formatTime writes a query time to the second, in Beijing time, in a form
// that sorts as text. A zero time is left blank.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format("2006-01-02 15:04:05")
}
