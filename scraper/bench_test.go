package scraper

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCheck measures a whole check as the daemon runs it, page
// evidence included, against the in-process simulator (WAF on, one captcha
// for the whole run, an instant solver, no pacing), that is the scraper's
// and the browser's own cost per check. Metrics: median and 90th percentile
// of a check's duration, checks per second, and the memory of this process
// plus the Chromium processes it launched.
func BenchmarkCheck(b *testing.B) {
	for _, tabs := range []int{1, 4} {
		b.Run(fmt.Sprintf("tabs=%d", tabs), func(b *testing.B) {
			cfg := simConfig()
			cfg.CaptchaUses = 1 << 30
			cfg.CaptchaTTL = time.Hour
			e := newEnv(b, cfg, Config{Tabs: tabs})
			people := append(e.people(b, "listed", 30), e.people(b, "clean", 30)...)
			ctx := context.Background()
			run := func(n int) []time.Duration {
				durations := make([]time.Duration, n)
				var next atomic.Int64
				var wg sync.WaitGroup
				for range tabs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := int(next.Add(1) - 1)
							if i >= n {
								return
							}
							p := people[i%len(people)]
							start := time.Now()
							if _, err := e.scraper.Check(ctx, p.Name, p.IDNumber); err != nil {
								b.Error(err)
								return
							}
							durations[i] = time.Since(start)
						}
					}()
				}
				wg.Wait()
				return durations
			}
			run(2 * tabs) // open the tabs, pass the WAF, solve a captcha per tab
			b.ResetTimer()
			start := time.Now()
			durations := run(b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(durations)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(durations[len(durations)/2]), "ms/check")
			b.ReportMetric(ms(durations[len(durations)*9/10]), "p90-ms/check")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "checks/s")
			rss, pss := memoryMB(b, e.scraper.br.pid)
			b.ReportMetric(rss, "rss-MB")
			b.ReportMetric(pss, "pss-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// memoryMB sums the resident (RSS) and proportional (PSS) memory of this
// process and of the browser's process group.
func memoryMB(b testing.TB, browserPID int) (rss, pss float64) {
	pgid, err := syscall.Getpgid(browserPID)
	if err != nil {
		b.Fatal(err)
	}
	pids := []int{os.Getpid()}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		rss += procKB(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmRSS:")
		pss += procKB(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"), "Pss:")
	}
	return rss / 1024, pss / 1024
}

// procKB reads a "Key: N kB" line of a /proc file.
func procKB(path, key string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseFloat(string(f[0]), 64)
				return n
			}
		}
	}
	return 0
}
