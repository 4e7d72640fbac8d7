package emulation

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// InterpreterVersion runs a qemu-user interpreter with --version and
// returns what follows "version" on its first line, e.g.
// "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".
func InterpreterVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("running %s --version: %w", path, err)
	}
	return parseQEMUVersion(out)
}

// parseQEMUVersion reads the version from qemu's --version output.
func parseQEMUVersion(out []byte) (string, error) {
	first, _, _ := bytes.Cut(out, []byte("\n"))
	_, v, ok := strings.Cut(string(first), " version ")
	if !ok || strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("no version in qemu's answer %q", first)
	}
	return strings.TrimSpace(v), nil
}
