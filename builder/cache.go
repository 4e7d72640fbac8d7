package builder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/define"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// CacheOptions configure the layer cache: the images buildah keeps for
// every step in local storage, and buildah's registry layer cache shared
// between runners (--cache-from, --cache-to).
//
// Buildah tags a step's image in a cache repository with a key hashed
// from the base's layers and history, the instruction and the manifest
// type: not from the platform. Two platforms whose bases share their
// layers (FROM scratch, a base of data only) get the same key, so they
// would overwrite each other's cache entries, and buildah's own check of
// a candidate compares OS and architecture but not the variant (arm/v6
// and arm/v7). polyarch therefore gives every platform a repository of
// its own: REPO-linux-amd64, REPO-linux-arm-v7... (see CacheRepository).
type CacheOptions struct {
	// FinalOnly commits only the final image of each platform, keeping
	// no intermediate images (--layers=false). Default: every step's
	// image is kept as the layer cache, as podman build does.
	FinalOnly bool
	// From are REG/REPO repositories looked up for a step's image before
	// the step runs (--cache-from), each per platform.
	From []string
	// To are REG/REPO repositories every step's new image is pushed to
	// (--cache-to), each per platform.
	To []string
	// TTL ignores cached images older than this (--cache-ttl); default
	// (0): no limit.
	TTL time.Duration
}

// validate checks every repository and the flags against each other.
func (c CacheOptions) validate() error {
	if c.FinalOnly && (len(c.From) > 0 || len(c.To) > 0) {
		return fmt.Errorf("--cache-from and --cache-to need --layers: the registry cache holds the image of every step, which --layers=false does not keep")
	}
	if c.TTL < 0 {
		return fmt.Errorf("invalid --cache-ttl %s: use a positive duration such as 168h, or 0 for no limit", c.TTL)
	}
	for _, set := range []struct {
		flag  string
		repos []string
	}{{"--cache-from", c.From}, {"--cache-to", c.To}} {
		for _, r := range set.repos {
			if _, err := parseCacheRepository(set.flag, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseCacheRepository parses a --cache-from/--cache-to value: a
// registry repository without tag or digest (buildah tags it itself).
func parseCacheRepository(flag, s string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("invalid %s %q: %v: use REGISTRY/REPOSITORY, e.g. quay.io/you/app-cache", flag, s, err)
	}
	if !reference.IsNameOnly(named) {
		return nil, fmt.Errorf("invalid %s %q: give a repository without tag or digest (REGISTRY/REPOSITORY): each step's image is tagged with its cache key", flag, s)
	}
	if n, err := index.NormalizeName(s); err == nil && strings.HasPrefix(n, "localhost/") {
		return nil, fmt.Errorf("invalid %s %q: it names no registry; use REGISTRY/REPOSITORY, e.g. quay.io/you/app-cache", flag, s)
	}
	return named, nil
}

// CacheRepository returns the repository of platform p within the cache
// repository repo: repo's name followed by the platform, its parts joined
// by dashes (quay.io/you/cache-linux-arm-v7).
func CacheRepository(repo string, p specs.Platform) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, fmt.Errorf("invalid cache repository %q: %w", repo, err)
	}
	suffix := strings.ReplaceAll(emulation.FormatPlatform(emulation.NormalizePlatform(p)), "/", "-")
	return reference.ParseNormalizedNamed(named.Name() + "-" + strings.ToLower(suffix))
}

// cacheRepositories returns the per-platform repositories of repos.
func cacheRepositories(repos []string, p specs.Platform) ([]reference.Named, error) {
	var out []reference.Named
	for _, r := range repos {
		named, err := CacheRepository(r, p)
		if err != nil {
			return nil, err
		}
		out = append(out, named)
	}
	return out, nil
}

// apply sets buildah's registry cache options for platform p (Layers is
// set with the other options, in buildahOptions).
func (c CacheOptions) apply(opts *define.BuildOptions, p specs.Platform) error {
	opts.CacheTTL = c.TTL
	var err error
	if opts.CacheFrom, err = cacheRepositories(c.From, p); err != nil {
		return err
	}
	opts.CacheTo, err = cacheRepositories(c.To, p)
	return err
}

// checkCacheTargets makes sure, before anything is pulled or built, that
// every --cache-to repository of every platform accepts pushes with the
// credentials given: buildah pushes a step's image as soon as it is
// committed, and a refused push fails the build midway.
func checkCacheTargets(ctx context.Context, o *Options, sys *types.SystemContext) error {
	var problems []string
	for _, p := range o.Platforms {
		repos, err := cacheRepositories(o.Cache.To, p)
		if err != nil {
			return err
		}
		for _, repo := range repos {
			if err := reachCacheRepository(ctx, sys, repo); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("build interrupted, nothing was published: %w", ctx.Err())
				}
				problems = append(problems, fmt.Sprintf("%s (%s): %v", repo.Name(), emulation.FormatPlatform(p), index.Explain(err, repo.Name())))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("cannot push to every --cache-to repository, nothing was built:\n  " + strings.Join(problems, "\n  "))
}

// reachCacheRepository asks repo's registry, with push credentials,
// about a blob, as a push starts; nothing is written.
func reachCacheRepository(ctx context.Context, sys *types.SystemContext, repo reference.Named) error {
	ref, err := docker.NewReference(reference.TagNameOnly(repo))
	if err != nil {
		return err
	}
	return reachForPush(ctx, sys, ref)
}
