package builder

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/parser"
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
	// Line is the FROM line number, for errors.
	Line int
}

// containerfile is a parsed Containerfile: its stages and global ARGs.
type containerfile struct {
	Path       string
	Stages     []stage
	GlobalArgs map[string]string
}

// parseContainerfile reads the stages of a Containerfile.
func parseContainerfile(path string) (*containerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Containerfile: %w", err)
	}
	defer f.Close()
	node, err := imagebuilder.ParseDockerfile(f)
	if err != nil {
		return nil, fmt.Errorf("parsing Containerfile %s: %w", path, err)
	}
	cf := &containerfile{Path: path, GlobalArgs: map[string]string{}}
	for _, child := range node.Children {
		cmd := strings.ToLower(child.Value)
		switch {
		case cmd == "from":
			cf.Stages = append(cf.Stages, newStage(child.Next, child.Flags, child.StartLine, len(cf.Stages)))
		case cmd == "arg" && len(cf.Stages) == 0:
			for n := child.Next; n != nil; n = n.Next {
				k, v, _ := strings.Cut(n.Value, "=")
				cf.GlobalArgs[k] = strings.Trim(v, `"'`)
			}
		case cmd == "run" && len(cf.Stages) > 0:
			cf.Stages[len(cf.Stages)-1].HasRun = true
		}
	}
	if len(cf.Stages) == 0 {
		return nil, fmt.Errorf("parsing Containerfile %s: no FROM instruction", path)
	}
	return cf, nil
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
	host := HostPlatform()
	return map[string]string{
		"TARGETPLATFORM": FormatPlatform(target),
		"TARGETOS":       target.OS,
		"TARGETARCH":     target.Architecture,
		"TARGETVARIANT":  target.Variant,
		"BUILDPLATFORM":  FormatPlatform(host),
		"BUILDOS":        host.OS,
		"BUILDARCH":      host.Architecture,
		"BUILDVARIANT":   host.Variant,
	}
}

// expand substitutes $VAR and ${VAR} from the global ARGs, the user's
// build args and the platform's automatic args.
func (cf *containerfile) expand(s string, user map[string]string, target specs.Platform) string {
	auto := buildArgsFor(target)
	return os.Expand(s, func(k string) string {
		if v, ok := auto[k]; ok {
			return v
		}
		if v, ok := user[k]; ok {
			if _, declared := cf.GlobalArgs[k]; declared {
				return v
			}
		}
		return cf.GlobalArgs[k]
	})
}

// stagePlatform returns the platform a stage runs as for a target.
func (cf *containerfile) stagePlatform(s stage, user map[string]string, target specs.Platform) (specs.Platform, error) {
	if s.PlatformFlag == "" {
		return target, nil
	}
	v := cf.expand(s.PlatformFlag, user, target)
	p, err := ParsePlatform(v)
	if err != nil {
		return specs.Platform{}, fmt.Errorf("%s line %d: FROM --platform=%s: %w", cf.Path, s.Line, s.PlatformFlag, err)
	}
	return p, nil
}

// stageIndex returns the index of the stage called name, or -1.
func (cf *containerfile) stageIndex(name string, before int) int {
	for i := 0; i < before && i < len(cf.Stages); i++ {
		if strings.EqualFold(cf.Stages[i].Name, name) {
			return i
		}
	}
	return -1
}
