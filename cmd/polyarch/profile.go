package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"

	"github.com/urfave/cli/v2"
)

// profileFlags are the hidden global flags that measure where a command's
// time goes (issue 13): a pprof CPU profile and a runtime trace.
func profileFlags(g *globalOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE`", Destination: &g.CPUProfile},
		&cli.StringFlag{Name: "trace", Hidden: true, Usage: "write a runtime trace to `FILE`", Destination: &g.Trace},
	}
}

// profiling is one started CPU profile and/or trace. Each is written to
// a temporary file next to its destination and renamed over it when the
// command returns, so a polyarch that only re-executes itself in a user
// namespace (its action returned a *session.Reexec) discards its own and
// never touches FILE: the child, which gets the same flags, writes it.
type profiling struct {
	cpu, trace      *os.File
	cpuDest, trDest string
}

// startProfiling starts what g's flags ask for.
func startProfiling(g *globalOptions) (*profiling, error) {
	p := &profiling{cpuDest: g.CPUProfile, trDest: g.Trace}
	var err error
	if p.cpuDest != "" {
		if p.cpu, err = pendingFile(p.cpuDest); err != nil {
			return nil, err
		}
		if err = pprof.StartCPUProfile(p.cpu); err != nil {
			p.stop(false)
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if p.trDest != "" {
		if p.trace, err = pendingFile(p.trDest); err != nil {
			p.stop(false)
			return nil, err
		}
		if err = trace.Start(p.trace); err != nil {
			p.stop(false)
			return nil, fmt.Errorf("--trace: %w", err)
		}
	}
	return p, nil
}

// pendingFile creates the temporary file that becomes dest.
func pendingFile(dest string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
	if err != nil {
		return nil, fmt.Errorf("creating profile %s: %w", dest, err)
	}
	_ = f.Chmod(0o644) // as os.Create would leave it, not CreateTemp's 0600
	return f, nil
}

// stop ends profiling; keep renames the files over their destinations,
// else they are removed. It is safe on nil and to call twice.
func (p *profiling) stop(keep bool) error {
	if p == nil {
		return nil
	}
	var errs []error
	if p.cpu != nil {
		pprof.StopCPUProfile()
		errs = append(errs, finish(p.cpu, p.cpuDest, keep))
		p.cpu = nil
	}
	if p.trace != nil {
		trace.Stop()
		errs = append(errs, finish(p.trace, p.trDest, keep))
		p.trace = nil
	}
	return errors.Join(errs...)
}

// finish closes f and renames it to dest, or removes it.
func finish(f *os.File, dest string, keep bool) error {
	err := f.Close()
	if err == nil && keep {
		if err = os.Rename(f.Name(), dest); err == nil {
			return nil
		}
	}
	_ = os.Remove(f.Name())
	if err != nil {
		return fmt.Errorf("writing profile %s: %w", dest, err)
	}
	return nil
}
