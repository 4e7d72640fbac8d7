package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// layoutContextPrefix marks a named context read from an OCI layout
// directory, as buildx spells it: oci-layout://DIR[:TAG].
const layoutContextPrefix = "oci-layout://"

// namedContext is one --build-context NAME=VALUE.
type namedContext struct {
	// Context is what buildah gets for a directory, a URL or an image.
	Context define.AdditionalBuildContext
	// Layout, for an oci-layout:// context, is oci-layout://ABSDIR[:TAG]:
	// polyarch copies its image of each platform into local storage and
	// hands buildah that image.
	Layout string
}

// image returns the image a FROM or COPY --from naming this context reads
// (a registry reference, or oci-layout://DIR[:TAG]), or "" for a
// directory or URL.
func (c namedContext) image() string {
	if c.Layout != "" {
		return c.Layout
	}
	if c.Context.IsImage {
		return c.Context.Value
	}
	return ""
}

// parseBuildContexts parses --build-context values with buildah's parser,
// plus buildx's oci-layout://; directories must exist.
func parseBuildContexts(values []string) (map[string]namedContext, error) {
	out := map[string]namedContext{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("invalid --build-context %q: use NAME=DIR, NAME=docker-image://REF, NAME=oci-layout://DIR[:TAG] or NAME=https://URL", v)
		}
		c, err := parseBuildContext(value)
		if err != nil {
			return nil, fmt.Errorf("invalid --build-context %q: %w", v, err)
		}
		out[name] = c
	}
	return out, nil
}

// parseBuildContext parses the value of one named context.
func parseBuildContext(value string) (namedContext, error) {
	if rest, ok := strings.CutPrefix(value, layoutContextPrefix); ok {
		dir, tag, _ := strings.Cut(rest, ":")
		if strings.Contains(rest, "@") || dir == "" {
			return namedContext{}, fmt.Errorf("use oci-layout://DIR or oci-layout://DIR:TAG (digests are not supported)")
		}
		abs, err := existingDir(dir)
		if err != nil {
			return namedContext{}, err
		}
		if tag != "" {
			abs += ":" + tag
		}
		return namedContext{Layout: layoutContextPrefix + abs}, nil
	}
	c, err := parse.GetAdditionalBuildContext(value)
	if err != nil {
		return namedContext{}, err
	}
	if !c.IsImage && !c.IsURL {
		if _, err := existingDir(c.Value); err != nil {
			return namedContext{}, err
		}
	}
	return namedContext{Context: c}, nil
}

// existingDir returns the absolute path of dir, which must be a directory.
func existingDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return abs, nil
}

// buildahContexts returns buildah's additional build contexts for one
// platform: the named contexts, with each oci-layout:// one copied into
// local storage for that platform and given by image ID, then the layout
// bases polyarch imported (imported, keyed by FROM as written).
func buildahContexts(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, p specs.Platform, imported map[string]*define.AdditionalBuildContext, report io.Writer) (map[string]*define.AdditionalBuildContext, error) {
	named, err := parseBuildContexts(o.Inputs.BuildContexts)
	if err != nil {
		return nil, err
	}
	if len(named) == 0 {
		return imported, nil
	}
	out := map[string]*define.AdditionalBuildContext{}
	for name, c := range named {
		bc := c.Context
		if c.Layout != "" {
			id, err := importBase(ctx, o, store, sys, layoutBase{Written: name, Image: c.Layout, Platform: p}, report)
			if err != nil {
				return nil, fmt.Errorf("reading build context %s (%s): %w", name, c.Layout, err)
			}
			bc = define.AdditionalBuildContext{IsImage: true, Value: id}
		}
		out[name] = &bc
	}
	for k, v := range imported {
		out[k] = v
	}
	return out, nil
}

// contextImage returns, for a FROM or --from name, whether it names a
// build context and, if so, the image that context reads ("" for a
// directory or URL); other names are returned as they are. A context
// takes precedence over a stage of the same name, as in buildah.
func contextImage(named map[string]namedContext, name string) (string, bool) {
	c, ok := named[name]
	if !ok {
		return name, false
	}
	return c.image(), true
}

// layoutContextReference returns the oci: reference of an oci-layout://
// context image, and whether name is one.
func layoutContextReference(name string) (types.ImageReference, bool, error) {
	rest, ok := strings.CutPrefix(name, layoutContextPrefix)
	if !ok {
		return nil, false, nil
	}
	ref, err := alltransports.ParseImageName("oci:" + rest)
	if err != nil {
		return nil, true, fmt.Errorf("build context %s: %w", name, err)
	}
	return ref, true, nil
}

// fromDirectoryContext is the error for a FROM naming a directory or URL
// context, which buildah would look up as an image of that name.
func fromDirectoryContext(cf *containerfile, s stage) error {
	return &ParseError{File: cf.Path, Line: s.Line, Instruction: "FROM " + s.Base,
		Problem: "--build-context " + s.Base + " is a directory or URL, not an image",
		Hint:    "FROM takes docker-image:// and oci-layout:// contexts; read a directory with COPY --from=" + s.Base}
}
