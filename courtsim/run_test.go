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

func TestRunSites(t *testing.T) {
	for _, tt := range []struct {
		site         string
		classic, gkw bool
	}{
		{"gkw", false, true},
		{"classic", true, false},
		{"both", true, true},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		out, w := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, []string{"--addr", "127.0.0.1:0", "--waf=false", "--people", "100", "--site", tt.site,
				"--gkw-token-ttl", "30s", "--gkw-token-uses", "3", "--gkw-challenge-ttl", "1m", "--gkw-captcha-delay", "0s",
				"--gkw-captcha-type", "SLIDER"}, w)
			w.Close()
		}()
		r := bufio.NewReader(out)
		var lines []string
		for range btoi(tt.classic) + btoi(tt.gkw) {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("--site %s: %v", tt.site, err)
			}
			lines = append(lines, line)
		}
		go io.Copy(io.Discard, out)
		addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(lines[0])
		gkwLine := regexp.MustCompile(`serving the gkw site at (http://127\.0\.0\.1:\d+/gkw/html/zhzxgk/index\.html)`)
		if m := gkwLine.FindStringSubmatch(lines[len(lines)-1]); (m != nil) != tt.gkw {
			t.Errorf("--site %s printed %q", tt.site, lines)
		}
		for path, want := range map[string]bool{"/shixin/": tt.classic, "/gkw/html/zhzxgk/index.html": tt.gkw, "/zhzxgk/": tt.gkw} {
			resp, err := http.Get(addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if (resp.StatusCode == http.StatusOK) != want {
				t.Errorf("--site %s: %s answered %d", tt.site, path, resp.StatusCode)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run --site %s: %v", tt.site, err)
		}
	}
	for _, args := range [][]string{{"--site", "modern"}, {"--gkw-token-uses", "-1"}, {"--gkw-captcha-type", "ROTATE"}, {"--gkw-captcha-delay", "-1s"}} {
		if err := Run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("Run(%q): no error", args)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
