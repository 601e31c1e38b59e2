// Command shixincheck checks batches of candidates against the national list of
// 失信被执行人 and keeps the ledger and filings the office's plan requires.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shixincheck/shixincheck/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shixincheck:", err)
		code := 1
		var exit interface{ ExitCode() int } // e.g. 2: a batch done with failures
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		}
		os.Exit(code)
	}
}
