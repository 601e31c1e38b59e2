// Command shixincheck checks batches of candidates against the national list of
// 失信被执行人 and keeps the ledger and filings the office's plan requires.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shixincheck/shixincheck/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shixincheck:", err)
		os.Exit(1)
	}
}
