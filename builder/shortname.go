package builder

import (
	"errors"
	"fmt"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/shortnames"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
)

// A short name (FROM alpine) is resolved as podman resolves it without a
// terminal (go.podman.io/image/v5/pkg/shortnames Resolve): a short-name
// alias of registries.conf wins; otherwise every unqualified-search
// registry is a candidate, in order, in the "permissive" and "disabled"
// modes; "enforcing" accepts a single one only. With no alias and no
// search registry it is an error: docker.io is never picked silently.
// polyarch never prompts, as a build must run unattended; buildah pulls
// with the same registries.conf, so both agree.

// errNoSearchRegistries is a short name with no alias and no
// unqualified-search registry configured.
var errNoSearchRegistries = errors.New("no unqualified-search-registries are configured")

// registryCandidates returns, in order, the fully qualified references a
// FROM name may be pulled from; a name with a registry is the only one.
func registryCandidates(sys *types.SystemContext, name string) ([]reference.Named, error) {
	if !shortnames.IsShortName(name) {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return nil, fmt.Errorf("base image %q is not a valid image name: %w", name, err)
		}
		return []reference.Named{reference.TagNameOnly(named)}, nil
	}
	ref, err := reference.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("base image %q is not a valid image name: %w", name, err)
	}
	short, ok := ref.(reference.Named)
	if !ok {
		return nil, fmt.Errorf("base image %q is not a valid image name: it names no repository", name)
	}
	alias, _, err := sysregistriesv2.ResolveShortNameAlias(sys, reference.TrimNamed(short).String())
	if err != nil {
		return nil, fmt.Errorf("resolving short name %q: %w", name, err)
	}
	if alias != nil {
		named, err := withTagOrDigest(alias, short)
		if err != nil {
			return nil, fmt.Errorf("resolving short name %q: %w", name, err)
		}
		return []reference.Named{named}, nil
	}
	return searchCandidates(sys, name)
}

// searchCandidates qualifies a short name with each unqualified-search
// registry, as the short-name mode allows.
func searchCandidates(sys *types.SystemContext, name string) ([]reference.Named, error) {
	registries, origin, err := sysregistriesv2.UnqualifiedSearchRegistriesWithOrigin(sys)
	if err != nil {
		return nil, fmt.Errorf("resolving short name %q: %w", name, err)
	}
	if len(registries) == 0 {
		where := origin
		if where == "" {
			where = sysregistriesv2.ConfigPath(sys)
		}
		return nil, fmt.Errorf("base image %q is a short name: %w in %s and it has no short-name alias; name it fully (e.g. %s), or add unqualified-search-registries = [\"REGISTRY\"] to %s (CONTAINERS_REGISTRIES_CONF selects another file)",
			name, errNoSearchRegistries, where, dockerHubExample(name), where)
	}
	mode, err := sysregistriesv2.GetShortNameMode(sys)
	if err != nil {
		return nil, fmt.Errorf("resolving short name %q: %w", name, err)
	}
	if mode == types.ShortNameModeEnforcing && len(registries) > 1 {
		return nil, fmt.Errorf("base image %q is a short name and short-name-mode is enforcing, but %s lists %d unqualified-search-registries (%v) and polyarch never prompts; name it fully, or add a short-name alias",
			name, origin, len(registries), registries)
	}
	var out []reference.Named
	for _, reg := range registries {
		named, err := reference.ParseNormalizedNamed(reg + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("qualifying short name %q with unqualified-search registry %q from %s: %w", name, reg, origin, err)
		}
		out = append(out, reference.TagNameOnly(named))
	}
	return out, nil
}

// withTagOrDigest gives named the tag or digest of written, or "latest".
func withTagOrDigest(named, written reference.Named) (reference.Named, error) {
	var err error
	if t, ok := written.(reference.NamedTagged); ok {
		if named, err = reference.WithTag(named, t.Tag()); err != nil {
			return nil, err
		}
	}
	if d, ok := written.(reference.Digested); ok {
		if named, err = reference.WithDigest(named, d.Digest()); err != nil {
			return nil, err
		}
	}
	return reference.TagNameOnly(named), nil
}

// dockerHubExample returns name as Docker Hub would qualify it, for hints.
func dockerHubExample(name string) string {
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		return reference.TagNameOnly(named).String()
	}
	return "REGISTRY/" + name
}
