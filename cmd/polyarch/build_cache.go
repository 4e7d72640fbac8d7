package main

import (
	"time"

	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// buildCacheFlags are the flags of polyarch build for the layer cache and
// the image format, named as podman build names them.
type buildCacheFlags struct {
	Layers             bool
	CacheFrom, CacheTo cli.StringSlice
	CacheTTL           time.Duration
	Format             string
}

// newBuildCacheFlags returns the flags and the values they fill.
func newBuildCacheFlags() ([]cli.Flag, *buildCacheFlags) {
	x := &buildCacheFlags{}
	return []cli.Flag{
		&cli.BoolFlag{Name: "layers", Value: true, Usage: "keep every step's image as the layer cache (on by default); --layers=false commits only the final image of each platform", Destination: &x.Layers},
		&cli.StringSliceFlag{Name: "cache-from", Usage: "look steps up in the registry layer cache `REG/REPO` before running them; each platform has its repository REG/REPO-OS-ARCH[-VARIANT] (repeatable)", Destination: &x.CacheFrom},
		&cli.StringSliceFlag{Name: "cache-to", Usage: "push every new step's image to the registry layer cache `REG/REPO`, as REG/REPO-OS-ARCH[-VARIANT]:KEY per platform (repeatable)", Destination: &x.CacheTo},
		&cli.DurationFlag{Name: "cache-ttl", Usage: "ignore cached images older than `DURATION`, e.g. 168h (0: no limit)", Destination: &x.CacheTTL},
		&cli.StringFlag{Name: "format", Value: builder.FormatOCI, Usage: "image `FORMAT`: oci, or docker (Docker schema 2 manifests and manifest list, keeping HEALTHCHECK, SHELL and ONBUILD)", EnvVars: []string{"BUILDAH_FORMAT"}, Destination: &x.Format},
	}, x
}

// apply checks the format and sets the flags in opts.
func (x *buildCacheFlags) apply(opts *builder.Options) error {
	format, err := builder.ParseFormat(x.Format)
	if err != nil {
		return err
	}
	opts.Format = format
	opts.Cache = builder.CacheOptions{FinalOnly: !x.Layers, From: x.CacheFrom.Value(), To: x.CacheTo.Value(), TTL: x.CacheTTL}
	return nil
}
