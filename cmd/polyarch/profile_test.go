package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/polyarch/polyarch/session"
	"github.com/urfave/cli/v2"
)

// TestProfilingWritesOnlyWhenKept checks that --cpuprofile and --trace
// write their files when the command did the work, and that a command
// returning a *session.Reexec leaves them to the child: nothing written,
// no temporary file left.
func TestProfilingWritesOnlyWhenKept(t *testing.T) {
	for _, reexec := range []bool{false, true} {
		dir := t.TempDir()
		g := &globalOptions{}
		cpu, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "trace.out")
		cmd := &cli.Command{Name: "work", Action: func(*cli.Context) error {
			if reexec {
				return &session.Reexec{}
			}
			return nil
		}}
		discardOnReexec(g, []*cli.Command{cmd})
		app := &cli.App{
			Name:     "polyarch",
			Flags:    profileFlags(g),
			Before:   func(*cli.Context) error { var err error; g.profiling, err = startProfiling(g); return err },
			After:    func(*cli.Context) error { return g.profiling.stop(true) },
			Commands: []*cli.Command{cmd},
		}
		err := app.Run([]string{"polyarch", "--cpuprofile", cpu, "--trace", tr, "work"})
		var re *session.Reexec
		if reexec != errors.As(err, &re) || (!reexec && err != nil) {
			t.Fatalf("reexec=%v: err = %v", reexec, err)
		}
		entries, _ := os.ReadDir(dir)
		if reexec && len(entries) != 0 {
			t.Errorf("the re-executing parent left %v", entries)
		}
		if !reexec {
			for _, f := range []string{cpu, tr} {
				if st, err := os.Stat(f); err != nil || st.Size() == 0 {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			if len(entries) != 2 {
				t.Errorf("left %v, want only the two profiles", entries)
			}
		}
	}
}
