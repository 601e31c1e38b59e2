package client

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults of the command line.
const (
	DefaultServer  = "http://127.0.0.1:8080"
	defaultTimeout = 60 * time.Second
	// pollEvery is how often --wait asks for the batch's progress by default.
	pollEvery = 2 * time.Second
	// lineEvery is how often --wait writes a progress line when not on a terminal.
	lineEvery = 30 * time.Second
	// outageGrace is how long --wait keeps asking through a daemon out of
	// reach (a restart, say) before it gives up.
	outageGrace = 2 * time.Minute
)

// ExitError is an error that ends the command with a given exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the code the program should exit with.
func (e *ExitError) ExitCode() int { return e.Code }

// Exit codes besides 0 (done) and 1 (any error).
const (
	// ExitFailures: the batch is done, but some checks failed or need a person.
	ExitFailures = 2
)

// Run runs one command of the command line: submit, status or workbook.
// stderr is taken for a terminal when it is one (a character device), and
// then --wait draws its progress bar there.
func Run(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	tty := isTerminal(stderr)
	switch cmd {
	case "submit":
		return runSubmit(ctx, args, getenv, stdout, stderr, tty)
	case "status":
		return runStatus(ctx, args, getenv, stdout, stderr)
	case "workbook":
		return runWorkbook(ctx, args, getenv, stdout, stderr)
	default:
		return fmt.Errorf("client: unknown command %q", cmd)
	}
}

// isTerminal tells whether w is a terminal. A character device is taken for
// one; /dev/null is one too, where a progress bar does no harm.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// common holds the flags every command takes.
type common struct {
	server, token string
	timeout       time.Duration
	getenv        func(string) string
}

func (c *common) bind(fs *flag.FlagSet, getenv func(string) string) {
	c.getenv = getenv
	server := getenv("SHIXINCHECK_SERVER")
	if server == "" {
		server = DefaultServer
	}
	fs.StringVar(&c.server, "server", server, "daemon address (env SHIXINCHECK_SERVER)")
	// The token's default is read after parsing, so -h never prints it.
	fs.StringVar(&c.token, "token", "", "API token, sent as Authorization: Bearer (default: env SHIXINCHECK_TOKEN, which keeps it out of the process list)")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "time allowed for each request to the daemon")
}

func (c *common) client() *Client {
	token := c.token
	if token == "" {
		token = c.getenv("SHIXINCHECK_TOKEN")
	}
	return New(c.server, token, c.timeout)
}

// parse parses flags and positional arguments in any order (FILE may come
// before or after the flags); "-h" ends the command without an error.
func parse(fs *flag.FlagSet, args []string, positional int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != positional {
		fs.Usage()
		return nil, fmt.Errorf("需要 %s", what)
	}
	return pos, nil
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shixincheck %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// helpOK turns the -h "error" into a plain end.
func helpOK(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, tty bool) error {
	fs := newFlagSet("submit", "submit FILE --item ITEM --unit UNIT --handler NAME --phone PHONE [--sheet SHEET] [--merge-duplicates] [--wait]", stderr)
	var c common
	c.bind(fs, getenv)
	var u Upload
	fs.StringVar(&u.Item, "item", "", "应用事项 (its name or an accepted alias)")
	fs.StringVar(&u.Unit, "unit", "", "单位")
	fs.StringVar(&u.Handler, "handler", "", "经办人")
	fs.StringVar(&u.Phone, "phone", "", "联系电话")
	fs.StringVar(&u.Sheet, "sheet", "", "worksheet of an .xlsx file (default: the first non-empty one)")
	fs.BoolVar(&u.MergeDuplicates, "merge-duplicates", false, "merge rows of the same person instead of refusing the file")
	wait := fs.Bool("wait", false, "follow the batch until it is done; exit 2 when some checks failed or need a person")
	interval := fs.Duration("interval", pollEvery, "with --wait, how often to ask for the batch's progress")
	pos, err := parse(fs, args, 1, "一个名单文件（.xlsx 或 .csv）")
	if err != nil {
		return helpOK(err)
	}
	u.File = pos[0]

	cl := c.client()
	s, err := cl.Submit(ctx, u)
	var apiErr *APIError
	if errors.As(err, &apiErr) && len(apiErr.Problems) > 0 {
		fmt.Fprintln(stderr, apiErr.Message+"：")
		for _, p := range apiErr.Problems {
			fmt.Fprintln(stderr, "  "+p.String())
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("名单有 %d 处问题，未提交：请修改后重新提交", len(apiErr.Problems))}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s.ID)
	fmt.Fprintln(stdout, cl.PageURL(s))
	if s.Created {
		fmt.Fprintf(stderr, "已提交：%d 人，批次 %s\n", s.Candidates, s.ID)
	} else {
		fmt.Fprintf(stderr, "今天已提交过同一名单：沿用批次 %s（%d 人），不重复核查\n", s.ID, s.Candidates)
	}
	for _, m := range s.Merged {
		fmt.Fprintf(stderr, "  第%d行与第%d行是同一人，已合并\n", m.Row, m.Into)
	}
	if !*wait {
		return nil
	}
	b, err := follow(ctx, cl, s.ID, stderr, tty, *interval, lineEvery)
	if err != nil {
		return err
	}
	return outcome(b)
}

// outcome turns a finished batch into the command's end: nil when done,
// ExitFailures when some checks failed or need a person.
func outcome(b Batch) error {
	p := b.Progress
	switch b.State {
	case StateDoneWithFailures:
		return &ExitError{Code: ExitFailures, Err: fmt.Errorf("批次 %s 已完成，%d 人需人工核查（其中 %d 人未能查询）", b.ID, p.Review+p.Failed, p.Failed)}
	case StateCancelled:
		return &ExitError{Code: 1, Err: fmt.Errorf("批次 %s 已取消：%d 人未核查", b.ID, p.Cancelled)}
	}
	return nil
}

// follow asks for the batch's progress every poll until it is finished,
// drawing it on out. A daemon out of reach is asked again for a while.
func follow(ctx context.Context, cl *Client, id string, out io.Writer, tty bool, poll, every time.Duration) (Batch, error) {
	bar := &progressBar{w: out, tty: tty, every: every}
	var down time.Time // when the daemon became unreachable; zero while it answers
	for {
		b, _, err := cl.Batch(ctx, id)
		switch {
		case err == nil:
			down = time.Time{}
			bar.update(b, time.Now())
			if b.Finished() {
				bar.finish()
				return b, nil
			}
		case errors.Is(err, ErrUnavailable) && ctx.Err() == nil:
			if down.IsZero() {
				down = time.Now()
			} else if time.Since(down) > outageGrace {
				bar.finish()
				return Batch{}, err
			}
		default:
			bar.finish()
			if ctx.Err() != nil {
				return Batch{}, fmt.Errorf("不再等待：批次 %s 仍在核查，可用 shixincheck status %s 查看", id, id)
			}
			return Batch{}, err
		}
		select {
		case <-ctx.Done():
			bar.finish()
			return Batch{}, fmt.Errorf("不再等待：批次 %s 仍在核查，可用 shixincheck status %s 查看", id, id)
		case <-time.After(poll):
		}
	}
}

// barWidth is the characters of the bar between its brackets.
const barWidth = 20

// progressLine renders a batch's progress:
// "[#######-------------] 35/100 失信 2 需人工 1 待验证码 3 核查中".
func progressLine(b Batch) string {
	p := b.Progress
	filled := 0
	if p.Total > 0 {
		filled = min(barWidth, p.Done*barWidth/p.Total)
	}
	line := fmt.Sprintf("[%s%s] %d/%d 失信 %d 需人工 %d 待验证码 %d",
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), p.Done, p.Total, p.Listed, p.Review+p.Failed, b.CaptchaBacklog)
	if b.StateText != "" {
		line += " " + b.StateText
	}
	return line
}

// progressBar draws progress: on a terminal one line redrawn in place when
// it changes; else a plain line at once, then one every `every` (changed or
// not, so a log shows the wait goes on), and the last one at the end.
type progressBar struct {
	w     io.Writer
	tty   bool
	every time.Duration

	line    string    // the latest line
	written string    // the last line written (not a terminal)
	at      time.Time // when it was written (not a terminal)
	drawn   bool      // a terminal line is open
}

func (p *progressBar) update(b Batch, now time.Time) {
	line := progressLine(b)
	if p.tty {
		if line != p.line {
			// \r goes back to the line's start; ESC[K clears what a longer line left.
			fmt.Fprint(p.w, "\r"+line+"\x1b[K")
			p.drawn = true
		}
		p.line = line
		return
	}
	p.line = line
	if p.at.IsZero() || now.Sub(p.at) >= p.every {
		fmt.Fprintln(p.w, line)
		p.written, p.at = line, now
	}
}

// finish ends the drawing: the terminal line is closed, a line not yet
// written is written.
func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	if !p.tty && p.line != p.written {
		fmt.Fprintln(p.w, p.line)
		p.written = p.line
	}
}

func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "status BATCH [--json]", stderr)
	var c common
	c.bind(fs, getenv)
	asJSON := fs.Bool("json", false, "print the daemon's JSON answer as it is (names and IDs masked)")
	pos, err := parse(fs, args, 1, "一个批次号")
	if err != nil {
		return helpOK(err)
	}
	b, raw, err := c.client().Batch(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(raw)
		return err
	}
	p := b.Progress
	fmt.Fprintf(stdout, "批次     %s\n", b.ID)
	fmt.Fprintf(stdout, "状态     %s（%s）\n", b.StateText, b.State)
	fmt.Fprintf(stdout, "应用事项 %s\n", b.Item)
	fmt.Fprintf(stdout, "单位     %s\n", b.Unit)
	fmt.Fprintf(stdout, "提交时间 %s\n", b.CreatedAt.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(stdout, "进度     %d/%d\n", p.Done, p.Total)
	fmt.Fprintf(stdout, "失信     %d 人（%d 条记录）\n", p.Listed, p.Hits)
	fmt.Fprintf(stdout, "无记录   %d 人\n", p.Clear)
	fmt.Fprintf(stdout, "需人工   %d 人（待判断 %d，未能查询 %d）\n", p.Review+p.Failed, p.Review, p.Failed)
	if p.Cancelled > 0 {
		fmt.Fprintf(stdout, "已取消   %d 人\n", p.Cancelled)
	}
	fmt.Fprintf(stdout, "待验证码 %d（全部批次）\n", b.CaptchaBacklog)
	return nil
}

func runWorkbook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("workbook", "workbook BATCH [-o FILE] [--partial]", stderr)
	var c common
	c.bind(fs, getenv)
	out := fs.String("o", "", "file to write (default: BATCH.xlsx); it holds full ID numbers and is made readable by its owner only")
	partial := fs.Bool("partial", false, "download the rows checked so far while the batch still runs")
	pos, err := parse(fs, args, 1, "一个批次号")
	if err != nil {
		return helpOK(err)
	}
	id := pos[0]
	path := *out
	if path == "" {
		path = id + ".xlsx"
	}

	// Written beside the target and renamed at the end: a failed download
	// leaves no half file and does not clobber an older one.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".shixincheck-*.xlsx")
	if err != nil {
		return fmt.Errorf("client: workbook file: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := c.client().Workbook(ctx, id, *partial, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("client: workbook file: %w", cerr)
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == 409 {
		return fmt.Errorf("批次 %s 尚未核查完毕：完成后再下载登记表，或加 --partial 下载已核查的部分", id)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("client: workbook file: %w", err)
	}
	fmt.Fprintf(stderr, "登记表已保存：%s（%d 字节，含完整身份证号，请妥善保管）\n", path, n)
	return nil
}
