package builder

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/parser"
	"github.com/polyarch/polyarch/emulation"
)

// stage is what preflight needs to know about one FROM ... stage.
type stage struct {
	// Name is the AS name, or the stage's index as a string.
	Name string
	// Base is the FROM image after argument expansion.
	Base string
	// PlatformFlag is the raw --platform value of FROM, if any.
	PlatformFlag string
	// HasRun is true if the stage executes RUN instructions.
	HasRun bool
	// From lists the --from= values of COPY and RUN --mount: stages or images.
	From []string
	// Line is the FROM line number, for errors.
	Line int
}

// containerfile is a parsed Containerfile: its stages and global ARGs.
type containerfile struct {
	Path       string
	Stages     []stage
	GlobalArgs []globalArg
	// Unkeyed says why a build of this file reads what no build key can
	// name (ADD of a URL, a secret or SSH mount); "" when it reads none.
	Unkeyed string
}

// globalArg is an ARG before the first FROM.
type globalArg struct {
	Name, Default string
}

// parseContainerfile reads the stages of a Containerfile and rejects, as
// a *ParseError, what buildah could not build.
func parseContainerfile(path string) (*containerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Containerfile: %w", err)
	}
	defer f.Close()
	return parseContainerfileFrom(path, f)
}

// parseContainerfileFrom parses a Containerfile read from r; path names
// it in errors.
func parseContainerfileFrom(path string, r io.Reader) (*containerfile, error) {
	node, err := imagebuilder.ParseDockerfile(r)
	if err != nil {
		return nil, parserError(path, err)
	}
	cf := &containerfile{Path: path}
	for _, child := range node.Children {
		if err := checkInstruction(path, child, len(cf.Stages)); err != nil {
			return nil, err
		}
		cmd := strings.ToLower(child.Value)
		switch {
		case cmd == "from":
			cf.Stages = append(cf.Stages, newStage(child.Next, child.Flags, child.StartLine, len(cf.Stages)))
		case cmd == "arg" && len(cf.Stages) == 0:
			for n := child.Next; n != nil; n = n.Next {
				k, v, _ := strings.Cut(n.Value, "=")
				cf.GlobalArgs = append(cf.GlobalArgs, globalArg{Name: k, Default: v})
			}
		case len(cf.Stages) == 0:
		case cmd == "run":
			cf.Stages[len(cf.Stages)-1].HasRun = true
			cf.noteUnkeyed(child)
			fallthrough
		case cmd == "copy" || cmd == "add":
			cf.noteUnkeyed(child)
			last := &cf.Stages[len(cf.Stages)-1]
			last.From = append(last.From, fromFlags(child.Flags)...)
		}
	}
	if len(cf.Stages) == 0 {
		return nil, &ParseError{File: path, Problem: "no FROM instruction", Hint: "start the Containerfile with FROM IMAGE"}
	}
	return cf, nil
}

// noteUnkeyed records in cf.Unkeyed the first instruction whose input
// no build key can name: an ADD source that is a URL, a git repository
// or a variable (which may be either), a RUN secret or SSH mount.
func (cf *containerfile) noteUnkeyed(n *parser.Node) {
	if cf.Unkeyed != "" {
		return
	}
	if strings.EqualFold(n.Value, "add") {
		for a := n.Next; a != nil && a.Next != nil; a = a.Next { // every argument but the destination
			if strings.Contains(a.Value, "://") || strings.Contains(a.Value, "git@") || strings.Contains(a.Value, "$") {
				cf.Unkeyed = fmt.Sprintf("line %d: ADD %s", n.StartLine, a.Value)
				return
			}
		}
	}
	for _, fl := range n.Flags {
		if v, ok := strings.CutPrefix(fl, "--mount="); ok && (strings.Contains(v, "type=secret") || strings.Contains(v, "type=ssh") || strings.Contains(v, "$")) {
			cf.Unkeyed = fmt.Sprintf("line %d: RUN %s", n.StartLine, fl)
			return
		}
	}
}

// fromFlags returns the sources named by --from=X and --mount=...,from=X.
func fromFlags(flags []string) []string {
	var out []string
	for _, fl := range flags {
		if v, ok := strings.CutPrefix(fl, "--from="); ok {
			out = append(out, v)
		}
		if v, ok := strings.CutPrefix(fl, "--mount="); ok {
			for _, kv := range strings.Split(v, ",") {
				if src, ok := strings.CutPrefix(kv, "from="); ok {
					out = append(out, src)
				}
			}
		}
	}
	return out
}

// newStage builds a stage from the arguments and flags of a FROM node.
func newStage(args *parser.Node, flags []string, line, index int) stage {
	s := stage{Name: fmt.Sprint(index), Line: line}
	var words []string
	for n := args; n != nil; n = n.Next {
		words = append(words, n.Value)
	}
	if len(words) > 0 {
		s.Base = words[0]
	}
	if len(words) == 3 && strings.EqualFold(words[1], "as") {
		s.Name = words[2]
	}
	for _, fl := range flags {
		if v, ok := strings.CutPrefix(fl, "--platform="); ok {
			s.PlatformFlag = v
		}
	}
	return s
}

// buildArgsFor returns the automatic platform arguments for one target
// platform, as BuildKit and buildah define them.
func buildArgsFor(target specs.Platform) map[string]string {
	host := emulation.HostPlatform()
	return map[string]string{
		"TARGETPLATFORM": emulation.FormatPlatform(target),
		"TARGETOS":       target.OS,
		"TARGETARCH":     target.Architecture,
		"TARGETVARIANT":  target.Variant,
		"BUILDPLATFORM":  emulation.FormatPlatform(host),
		"BUILDOS":        host.OS,
		"BUILDARCH":      host.Architecture,
		"BUILDVARIANT":   host.Variant,
	}
}

// expand substitutes variables in a FROM line as buildah does, with
// shell-style forms (${VAR:-default}, quotes) from imagebuilder: the
// platform's automatic args, then the global ARGs, whose defaults the
// user's build args override.
func (cf *containerfile) expand(s string, user map[string]string, target specs.Platform) string {
	var env []string
	for k, v := range buildArgsFor(target) {
		env = append(env, k+"="+v)
	}
	for _, a := range cf.GlobalArgs {
		v, ok := user[a.Name]
		if !ok {
			v, _ = imagebuilder.ProcessWord(a.Default, env)
		}
		env = append(env, a.Name+"="+v)
	}
	out, err := imagebuilder.ProcessWord(s, env)
	if err != nil {
		return s
	}
	return out
}

// stagePlatform returns the platform a stage runs as for a target.
func (cf *containerfile) stagePlatform(s stage, user map[string]string, target specs.Platform) (specs.Platform, error) {
	if s.PlatformFlag == "" {
		return target, nil
	}
	v := cf.expand(s.PlatformFlag, user, target)
	p, err := emulation.ParsePlatform(v)
	if err != nil {
		return specs.Platform{}, fmt.Errorf("%s line %d: FROM --platform=%s: %w", cf.Path, s.Line, s.PlatformFlag, err)
	}
	return p, nil
}

// stageIndex returns the index of the stage called name (or numbered
// name) among the stages before before, or -1.
func (cf *containerfile) stageIndex(name string, before int) int {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < before && n < len(cf.Stages) {
		return n
	}
	for i := 0; i < before && i < len(cf.Stages); i++ {
		if strings.EqualFold(cf.Stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// reachable marks the stages buildah builds for target ("" is the last
// stage): the target and, transitively, the stages it starts from or
// copies from.
func (cf *containerfile) reachable(target string) ([]bool, error) {
	last := len(cf.Stages) - 1
	if target != "" {
		if last = cf.stageIndex(target, len(cf.Stages)); last < 0 {
			var names []string
			for _, st := range cf.Stages {
				names = append(names, st.Name)
			}
			return nil, fmt.Errorf("--target %s: %s has no stage of that name (stages: %s)", target, cf.Path, strings.Join(names, ", "))
		}
	}
	marked := make([]bool, len(cf.Stages))
	var visit func(i int)
	visit = func(i int) {
		if marked[i] {
			return
		}
		marked[i] = true
		for _, dep := range append([]string{cf.Stages[i].Base}, cf.Stages[i].From...) {
			if j := cf.stageIndex(dep, i); j >= 0 {
				visit(j)
			}
		}
	}
	visit(last)
	return marked, nil
}
