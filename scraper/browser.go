package scraper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
)

// browserNames are looked up on PATH, in this order, when Config.BrowserBin is empty.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findBrowser returns the browser binary to run; rod must never download one.
func findBrowser(bin string) (string, error) {
	if bin != "" {
		path, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("browser %q: %w", bin, err)
		}
		return path, nil
	}
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no browser found on PATH (tried %v)", browserNames)
}

// browser is one running Chromium process and the CDP connection to it.
type browser struct {
	rod    *rod.Browser
	pid    int
	pgid   int           // process group of the browser and its helpers
	exited chan struct{} // closed when the process has exited
	cancel context.CancelFunc
	gen    int // launch number, so tabs know which browser they belong to
}

// launchBrowser starts Chromium headless on the persistent profile dir.
func launchBrowser(ctx context.Context, bin, profileDir string, timeout time.Duration, gen int) (*browser, error) {
	l := launcher.New().
		Bin(bin).
		UserDataDir(profileDir).
		// Restoring the last session keeps session cookies (the WAF's) on disk.
		Preferences(`{"session":{"restore_on_startup":1}}`).
		Headless(true).
		NoSandbox(os.Geteuid() == 0).
		// Quiet on a closed network.
		Set("disable-background-networking").
		Set("disable-component-update").
		Set("disable-domain-reliability").
		Set("disable-sync").
		Set("disable-breakpad").
		Set("no-first-run").
		Set("no-default-browser-check").
		// Small: no extensions, audio or GPU, not even a software one; the GPU
		// thread, the network service and all tabs' pages in shared
		// processes; no WebUI omnibox popups (a renderer each). The network
		// service in the browser process saves a process of about 100 MB
		// RSS (20 MB PSS); it runs outside the namespace sandbox either way.
		Set("disable-extensions").
		Set("mute-audio").
		Set("disable-gpu").
		Set("disable-software-rasterizer").
		Set("in-process-gpu").
		Set("renderer-process-limit", "1").
		Append("enable-features", "NetworkServiceInProcess2").
		Append("disable-features", "Translate", "MediaRouter", "OptimizationHints",
			"AutofillServerCommunication", "WebUIOmniboxPopup", "WebUIOmniboxAimPopup").
		Set("window-size", "1280,900")
	launchCtx, cancelLaunch := context.WithTimeout(ctx, timeout)
	defer cancelLaunch()
	u, err := l.Context(launchCtx).Launch()
	if err != nil {
		return nil, fmt.Errorf("launch browser: %w", err)
	}
	b := &browser{pid: l.PID(), exited: make(chan struct{}), gen: gen}
	b.pgid, _ = syscall.Getpgid(b.pid)
	// Launcher.Cleanup waits for the process and then removes the user data
	// dir; with the flag deleted it only waits, which gives us an exit signal
	// while the persistent profile stays.
	l.Delete(flags.UserDataDir)
	go func() {
		l.Cleanup()
		close(b.exited)
	}()

	bctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	rb := rod.New().Context(bctx).ControlURL(u).NoDefaultDevice()
	if err := rb.Connect(); err != nil {
		b.kill()
		return nil, fmt.Errorf("connect to browser: %w", err)
	}
	b.rod = rb
	return b, nil
}

// alive tells whether the browser process still runs.
func (b *browser) alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// close asks the browser to quit, kills it if it does not, and waits for it
// and its helper processes.
func (b *browser) close(timeout time.Duration) error {
	var err error
	if b.rod != nil && b.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_ = b.rod.Context(ctx).Close() // the connection may drop before the answer
		cancel()
	}
	select {
	case <-b.exited:
	case <-time.After(timeout):
		err = errors.New("browser did not quit in time: killed")
		killGroup(b.pgid, b.pid)
		<-b.exited
	}
	b.cancel()
	killGroup(b.pgid, 0) // helpers still around after the browser quit
	return err
}

// kill ends the browser's process group and waits for it.
func (b *browser) kill() {
	if b.cancel != nil {
		b.cancel()
	}
	killGroup(b.pgid, b.pid)
	<-b.exited
}

// killGroup kills the browser's process group (the launcher starts the
// browser in a group of its own, its helper processes included) and the
// browser process, unless pid is 0.
func killGroup(pgid, pid int) {
	if pgid > 1 && pgid != syscall.Getpgrp() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
