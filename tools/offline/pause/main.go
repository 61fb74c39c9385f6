// Command pause is the sandbox ("pause") process of the local Kubernetes cluster's pods
// (scripts/cluster/up.sh). Every pod's sandbox runs one; it holds the pod's namespaces open and
// does nothing else. The host has no registry to pull one from, so the project builds its own.
//
// It waits for SIGTERM or SIGINT and exits 0. As PID 1 of its namespace it also reaps any
// orphaned children handed to it, so none stay zombies.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
