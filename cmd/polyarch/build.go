package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/polyarch/polyarch/builder"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/urfave/cli/v2"
)

// buildFlags holds the raw flags of polyarch build.
type buildFlags struct {
	File      string
	Tags      cli.StringSlice
	Platforms cli.StringSlice
	BuildArgs cli.StringSlice
	Target    string
	Jobs      int
	NoCache   bool
	Pull      string
	Outputs   cli.StringSlice
	Quiet     bool
	Push      bool
	Retry     int
	Emulation string
	QEMUDir   string
	Verify    bool
	// AllowMislabelled builds from bases whose index entries lie.
	AllowMislabelled bool
	// MaxLayerSize caps a base's gzip layer's inflated size, e.g. "64GiB".
	MaxLayerSize string
}

// newBuildCommand returns `polyarch build`.
func newBuildCommand(g *globalOptions) *cli.Command {
	f := &buildFlags{}
	regFlags, reg := newRegistryFlags("")
	compFlags, comp := newCompressionFlags("compress the layers of every output (default gzip)")
	extraFlags, extra := newBuildExtraFlags()
	fanoutFlags, fanout := newBuildFanoutFlags()
	cacheFlags, cache := newBuildCacheFlags()
	progressFlags, progress := newBuildProgressFlags()
	signFlags, sign := newSignFlags("every platform image and the index --push or --push-by-digest writes")
	provFlag, prov := newProvenanceFlag()
	return &cli.Command{
		Name:      "build",
		Usage:     "build a Containerfile for several platforms into one image index",
		ArgsUsage: "CONTEXT",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "Containerfile `PATH` (default: CONTEXT/Containerfile, then CONTEXT/Dockerfile)", Destination: &f.File},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "`NAME` of the index in local storage (repeatable)", Destination: &f.Tags},
			&cli.StringSliceFlag{Name: "platform", Usage: "`OS/ARCH[/VARIANT]` to build, comma list or repeated (default: the host's)", Destination: &f.Platforms},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "`KEY=VALUE` build argument (repeatable)", Destination: &f.BuildArgs},
			&cli.StringFlag{Name: "target", Usage: "build up to `STAGE`", Destination: &f.Target},
			&cli.IntFlag{Name: "jobs", Usage: "`N` platforms built at once (0: all)", Destination: &f.Jobs},
			&cli.BoolFlag{Name: "no-cache", Usage: "run every step: use no cached image, local or from --cache-from (new ones still go to --cache-to)", Destination: &f.NoCache},
			&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull base images: always, missing or never", Destination: &f.Pull},
			&cli.StringSliceFlag{Name: "output", Aliases: []string{"o"}, Usage: "also write the index: type=oci,dest=DIR or type=oci-archive,dest=FILE", Destination: &f.Outputs},
			&cli.BoolFlag{Name: "push", Usage: "push the index and every platform image to the registry of each -t (same as -o type=registry)", Destination: &f.Push},
			&cli.IntFlag{Name: "retry", Value: index.DefaultRetry, Usage: "retry a failed pull or push `N` times, with backoff", Destination: &f.Retry},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the index ID", Destination: &f.Quiet},
			&cli.StringFlag{Name: "emulation", Value: "auto", Usage: "where qemu handlers are registered: auto, private or host", EnvVars: []string{"POLYARCH_EMULATION"}, Destination: &f.Emulation},
			&cli.BoolFlag{Name: "verify", Usage: "check every platform's labels and ELF files (as polyarch verify) before anything is tagged or pushed", Destination: &f.Verify},
			&cli.BoolFlag{Name: "allow-mislabelled-base", Usage: "build from a base whose index entry's platform differs from its config's, with a warning (default: refuse)", Destination: &f.AllowMislabelled},
			maxLayerSizeFlag(&f.MaxLayerSize, "refuse a gzip layer of a base image inflating past `SIZE` when polyarch reads the base into local storage"),
			&cli.StringFlag{Name: "qemu-dir", Usage: "`DIR` holding qemu-*-static interpreters", EnvVars: []string{"POLYARCH_QEMU_DIR"}, Destination: &f.QEMUDir},
		}, append(append(append(append(append(append(compFlags, regFlags...), extraFlags...), fanoutFlags...), cacheFlags...), progressFlags...), append(signFlags, provFlag)...)...),
		Action: func(c *cli.Context) error {
			opts, err := f.options(c, g)
			if err != nil {
				return cli.Exit(err.Error(), 125)
			}
			opts.Registry = reg.options(c)
			opts.Compression = comp.options()
			opts.Sign = sign.options()
			if err := extra.apply(&opts, f.File); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			fanout.apply(&opts)
			if err := cache.apply(&opts); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := progress.apply(c, &opts); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			prov.apply(c, &opts)
			if err := opts.Validate(); err != nil {
				return cli.Exit(err.Error(), 125)
			}
			if err := g.parsed(); err != nil {
				return err
			}
			if opts.Plan, err = builder.NewPlan(&opts); err != nil {
				return planError(err)
			}
			re, err := builder.EnterNamespace(opts)
			if re != nil {
				return re
			}
			if err != nil {
				return err
			}
			res, err := builder.Build(c.Context, opts)
			if err = buildOutcome(g.Stderr, res, err); res == nil || res.ID == "" {
				return err
			}
			if !opts.Quiet {
				for _, img := range res.Images {
					fmt.Fprintf(g.Stderr, "[%s] %s\n", emulation.FormatPlatform(img.Platform), img.Digest)
				}
				printSummary(g.Stderr, res)
			}
			fmt.Fprintln(g.Stdout, res.ID)
			return err
		},
	}
}

// options validates the flags and turns them into builder options.
func (f *buildFlags) options(c *cli.Context, g *globalOptions) (builder.Options, error) {
	if c.NArg() != 1 {
		return builder.Options{}, fmt.Errorf("polyarch build takes exactly one CONTEXT directory, got %d arguments", c.NArg())
	}
	platforms, err := emulation.ParsePlatforms(f.Platforms.Value())
	if err != nil {
		return builder.Options{}, err
	}
	pull, err := builder.ParsePullPolicy(f.Pull)
	if err != nil {
		return builder.Options{}, err
	}
	args := map[string]string{}
	for _, kv := range f.BuildArgs.Value() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return builder.Options{}, fmt.Errorf("invalid --build-arg %q: use KEY=VALUE", kv)
		}
		args[k] = v
	}
	var outputs []builder.Output
	for _, s := range f.Outputs.Value() {
		out, err := builder.ParseOutput(s)
		if err != nil {
			return builder.Options{}, err
		}
		outputs = append(outputs, out)
	}
	if f.Push {
		outputs = append(outputs, builder.Output{Type: builder.OutputRegistry})
	}
	maxLayer, err := parseMaxLayerSize(f.MaxLayerSize)
	if err != nil {
		return builder.Options{}, err
	}
	return builder.Options{
		ContextDir: c.Args().First(), Containerfile: f.File, Tags: f.Tags.Value(), Platforms: platforms,
		BuildArgs: args, Target: f.Target, Jobs: f.Jobs, NoCache: f.NoCache, Pull: pull, Retry: f.Retry,
		Outputs: outputs, Quiet: f.Quiet, Stdout: g.Stdout, Stderr: g.Stderr, Verify: f.Verify,
		AllowMislabelledBase: f.AllowMislabelled, MaxLayerSize: maxLayer,
		Store:     g.storeOptions(),
		Emulation: builder.EmulationOptions{Mode: f.Emulation, QEMUDir: f.QEMUDir},
	}, nil
}

// planError reports a Containerfile that cannot be built as written as a
// usage error (exit 125), as podman does; other planning errors exit 1.
func planError(err error) error {
	var pe *builder.ParseError
	if errors.As(err, &pe) {
		return cli.Exit(err.Error(), 125)
	}
	return err
}
