package workbook

import (
	"bufio"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// heapMetric is the heap held by objects, live or not yet swept: what
// runtime.MemStats calls HeapAlloc, read without stopping the world.
const heapMetric = "/memory/classes/heap/objects:bytes"

// benchPeak runs write in the benchmark loop and reports, beside time and
// allocations, two high-water marks of memory:
//
//   - peak-heap-MB: the largest heap sampled every millisecond during the
//     loop, less the heap before it (the input rows);
//   - peak-RSS-MB: the whole process's resident set high-water mark (VmHWM),
//     reset before the loop through /proc/self/clear_refs (Linux only; it
//     includes the test binary and the input).
func benchPeak(b *testing.B, write func() error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	rssReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil

	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: heapMetric}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	b.ReportAllocs()
	var err error
	for b.Loop() {
		if err = write(); err != nil {
			break
		}
	}
	close(stop)
	<-done
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(max(peak.Load(), base)-base)/(1<<20), "peak-heap-MB")
	if kb, ok := vmHWM(); ok && rssReset {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
	}
}

// vmHWM reads the process's peak resident set size, in kB.
func vmHWM() (int, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb, err == nil
		}
	}
	return 0, false
}
