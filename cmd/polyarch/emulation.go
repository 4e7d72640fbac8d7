package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/urfave/cli/v2"
)

// newEmulationCommand returns `polyarch emulation` and its subcommands.
func newEmulationCommand(g *globalOptions) *cli.Command {
	return &cli.Command{
		Name:  "emulation",
		Usage: "inspect and manage the qemu-user-static handlers that run foreign RUN steps",
		Description: "Builds need no setup on Linux >= 6.7: they register missing handlers in polyarch's own\n" +
			"user namespace (private mode). `install` and `uninstall` change the host's binfmt_misc\n" +
			"instead (root only), for older kernels and for --emulation=host.",
		Subcommands: []*cli.Command{
			newEmulationStatusCommand(g),
			newEmulationInstallCommand(g),
			newEmulationUninstallCommand(g),
		},
	}
}

// qemuDirFlag is --qemu-dir, as build has it.
func qemuDirFlag(dest *string) cli.Flag {
	return &cli.StringFlag{Name: "qemu-dir", Usage: "`DIR` holding qemu-*-static interpreters (only that directory is searched)",
		EnvVars: []string{emulation.EnvQEMUDir}, Destination: dest}
}

// platformArgs parses the PLATFORM...|all arguments; none means all if
// noneIsAll, else it is an error naming the command.
func platformArgs(c *cli.Context, noneIsAll bool) ([]specs.Platform, error) {
	args := c.Args().Slice()
	if len(args) == 0 && noneIsAll {
		args = []string{"all"}
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("polyarch emulation %s needs platforms, e.g. linux/arm64, or all", c.Command.Name)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%q is not a platform: flags of polyarch emulation %s go before --", a, c.Command.Name)
		}
	}
	return emulation.ParsePlatforms(expandAll(args))
}

// expandAll replaces each "all" in the comma lists of args by every
// platform of the emulator table.
func expandAll(args []string) []string {
	var out []string
	for _, a := range args {
		for _, item := range strings.Split(a, ",") {
			if !strings.EqualFold(strings.TrimSpace(item), "all") {
				out = append(out, item)
				continue
			}
			for _, p := range emulation.TablePlatforms() {
				out = append(out, emulation.FormatPlatform(p))
			}
		}
	}
	return out
}

// commandLine is the command as an administrator would retype it.
func commandLine(c *cli.Context, extra ...string) string {
	return strings.Join(append(append([]string{"polyarch emulation", c.Command.Name}, extra...), c.Args().Slice()...), " ")
}

// writeJSON writes v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// failures wraps the joined per-platform errors of install or uninstall,
// counting them.
func failures(verb string, total int, err error) error {
	if err == nil {
		return nil
	}
	failed := 1
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		failed = len(joined.Unwrap())
	}
	return fmt.Errorf("%s: %d of %d platforms failed:\n%w", verb, failed, total, err)
}

// resultWord prints a result status: "already-registered" as "already
// registered".
func resultWord(status string) string {
	return strings.ReplaceAll(status, "-", " ")
}
