package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// baseNeed is one (image, platform) pair a build needs.
type baseNeed struct {
	Image    string
	Platform specs.Platform
}

// collectNeeds lists the base images per platform and the platforms
// whose RUN steps execute foreign code.
func collectNeeds(cf *containerfile, o *Options) ([]baseNeed, []specs.Platform, error) {
	built, err := cf.reachable(o.Target)
	if err != nil {
		return nil, nil, err
	}
	named, err := parseBuildContexts(o.Inputs.BuildContexts)
	if err != nil {
		return nil, nil, err
	}
	var needs []baseNeed
	var emulated []specs.Platform
	seenNeed, seenEmu := map[string]bool{}, map[string]bool{}
	for _, target := range o.Platforms {
		for i, s := range cf.Stages {
			if !built[i] {
				continue
			}
			p, err := cf.stagePlatform(s, o.BuildArgs, target)
			if err != nil {
				return nil, nil, err
			}
			if s.HasRun && !isHostPlatform(p) && !seenEmu[emulation.FormatPlatform(p)] {
				seenEmu[emulation.FormatPlatform(p)] = true
				emulated = append(emulated, p)
			}
			for j, ref := range append([]string{s.Base}, s.From...) {
				image, isContext := contextImage(named, cf.expand(ref, o.BuildArgs, target))
				if isContext && image == "" && j == 0 {
					return nil, nil, fromDirectoryContext(cf, s)
				}
				if isContext && image == "" {
					continue // a directory or URL: nothing to resolve
				}
				key := image + "|" + emulation.FormatPlatform(p)
				if strings.EqualFold(image, "scratch") || (!isContext && cf.stageIndex(image, i) >= 0) || seenNeed[key] {
					continue
				}
				seenNeed[key] = true
				needs = append(needs, baseNeed{Image: image, Platform: p})
			}
		}
	}
	return needs, emulated, nil
}

// isHostPlatform reports whether p is the machine's own platform.
func isHostPlatform(p specs.Platform) bool {
	return emulation.FormatPlatform(p) == emulation.FormatPlatform(emulation.HostPlatform())
}

// checkBases resolves each base image once and reports, in one error,
// every base that cannot be read and every missing (image, platform) pair.
func checkBases(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, needs []baseNeed) error {
	offered := map[string][]specs.Platform{}
	failed := map[string]bool{}
	var unreadable, missing []string
	for _, n := range needs {
		if failed[n.Image] {
			continue
		}
		have, ok := offered[n.Image]
		if !ok {
			var err error
			if have, err = basePlatforms(ctx, o, store, sys, n.Image); err != nil {
				failed[n.Image] = true
				unreadable = append(unreadable, err.Error())
				continue
			}
			offered[n.Image] = have
		}
		if !index.Offers(have, n.Platform) {
			missing = append(missing, fmt.Sprintf("%s has no %s image; it has %s", n.Image, emulation.FormatPlatform(n.Platform), index.FormatPlatforms(have)))
		}
	}
	var parts []string
	if len(unreadable) > 0 {
		parts = append(parts, "base images cannot be read, nothing was built:\n  "+strings.Join(unreadable, "\n  "))
	}
	if len(missing) > 0 {
		parts = append(parts, "base images are missing for the requested platforms, nothing was built:\n  "+strings.Join(missing, "\n  ")+
			"\n(drop those platforms from --platform, or use bases that provide them)")
	}
	if len(parts) == 0 {
		return nil
	}
	return errors.New(strings.Join(parts, "\n"))
}

// basePlatforms returns every platform the base image offers across the
// sources the pull policy allows: local storage, then its registry or
// transport.
func basePlatforms(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, name string) ([]specs.Platform, error) {
	refs, err := baseReferences(o, store, sys, name)
	if err != nil {
		return nil, err
	}
	var all []specs.Platform
	var errs []error
	for _, ref := range refs {
		ps, err := basePlatformsOf(ctx, sys, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, ps...)
	}
	if len(all) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, index.Explain(errors.Join(errs...), name))
	}
	return all, nil
}

// baseReferences lists where a FROM name may be found, as buildah would
// look for it under the pull policy. A name found in local storage needs
// no registry: a short name that cannot be qualified is then no error.
func baseReferences(o *Options, store storage.Store, sys *types.SystemContext, name string) ([]types.ImageReference, error) {
	if ref, ok, err := layoutContextReference(name); ok {
		return []types.ImageReference{ref}, err
	}
	if index.HasTransport(name) {
		t := alltransports.TransportFromImageName(name)
		within := strings.SplitN(name, ":", 2)[1]
		if isPathTransport(t.Name()) {
			path, _, _ := strings.Cut(within, ":")
			inContext := filepath.Join(o.ContextDir, path)
			if _, err := os.Stat(inContext); err != nil {
				return nil, fmt.Errorf("base image %s: %s is not in the build context %s: paths of %s: bases are resolved inside the build context, as buildah does; copy the layout or archive into the context", name, path, o.ContextDir, t.Name())
			}
			name = t.Name() + ":" + filepath.Join(o.ContextDir, within)
			if t.Name() == "oci-archive" && o.archives != nil {
				_, image, _ := strings.Cut(within, ":")
				ref, err := o.archives.reference(inContext, image)
				if err != nil {
					return nil, fmt.Errorf("base image %s: %w", name, err)
				}
				return []types.ImageReference{ref}, nil
			}
		}
		ref, err := alltransports.ParseImageName(name)
		if err != nil {
			return nil, fmt.Errorf("base image %q: %w", name, err)
		}
		return []types.ImageReference{ref}, nil
	}
	var refs []types.ImageReference
	if o.Pull != PullAlways {
		if ref := index.LocalReference(store, name); ref != nil {
			refs = append(refs, ref)
		}
	}
	if o.Pull == PullNever {
		if len(refs) == 0 {
			return nil, fmt.Errorf("base image %s is not in local storage and --pull=never forbids fetching it", name)
		}
		return refs, nil
	}
	remote, err := registryReferences(sys, name)
	if err != nil && len(refs) == 0 {
		return nil, err
	}
	return append(refs, remote...), nil
}

// registryReferences returns the registry references of a FROM name, a
// short name resolved as podman does (see registryCandidates).
func registryReferences(sys *types.SystemContext, name string) ([]types.ImageReference, error) {
	candidates, err := registryCandidates(sys, name)
	if err != nil {
		return nil, err
	}
	var refs []types.ImageReference
	for _, named := range candidates {
		ref, err := alltransports.ParseImageName("docker://" + named.String())
		if err != nil {
			return nil, fmt.Errorf("base image %q: %w", name, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// isPathTransport reports whether a transport names a file or directory.
func isPathTransport(name string) bool {
	switch name {
	case "oci", "oci-archive", "dir", "docker-archive":
		return true
	}
	return false
}
