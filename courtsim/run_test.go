package courtsim

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--addr", "127.0.0.1:0", "--waf=false", "--side-door", "--people", "200", "--seed", "3",
			"--captcha-ttl", "30s", "--captcha-uses", "5", "--latency", "1ms"}, w)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v", err)
	}
	go io.Copy(io.Discard, out)
	m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/shixin/`).FindString(line)
	if m == "" {
		t.Fatalf("printed %q", line)
	}
	resp, err := http.Get(m)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("page: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Get(m); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--people", "x"}, {"--captcha-ttl", "-1s"}, {"extra"}, {"--addr", "256.0.0.1:1"}} {
		if err := Run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("Run(%q): no error", args)
		}
	}
}
