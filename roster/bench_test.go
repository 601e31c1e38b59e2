package roster

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRead10000XLSX reads and validates a list of 10,000 people in an
// .xlsx, reporting the peak heap (sampled every millisecond, less the heap
// before the run: the file itself), as workbook's benchmarks do, and the
// peak resident set size of the process while reading.
func BenchmarkRead10000XLSX(b *testing.B) {
	const n = 10000
	data := genXLSX(b, n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runtime.GC()
	base := heapNow()
	rssReset := resetPeakRSS()
	peakHeap, stop := samplePeakHeap()
	b.ResetTimer()
	for b.Loop() {
		res, err := Read(bytes.NewReader(data), "名单.xlsx", Options{})
		if err != nil || len(res.Rows) != n {
			b.Fatalf("%d rows, error %v", len(res.Rows), err)
		}
	}
	b.StopTimer()
	stop()
	b.ReportMetric(float64(max(peakHeap.Load(), base)-base)/(1<<20), "peak-heap-MB")
	if rss, ok := peakRSS(); ok && rssReset {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	}
}

// heapMetric is the heap held by objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// samplePeakHeap samples the bytes in live and unswept heap objects until
// stop is called.
func samplePeakHeap() (*atomic.Uint64, func()) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: heapMetric}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return &peak, func() { close(done); <-finished }
}

// resetPeakRSS resets the kernel's high-water mark of the resident set
// (VmHWM) to the current size.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns VmHWM in bytes.
func peakRSS() (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
