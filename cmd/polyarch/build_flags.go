package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/polyarch/polyarch/builder"
	"github.com/polyarch/polyarch/session"
	"github.com/urfave/cli/v2"
)

// stdinContainerfileEnv hands a Containerfile read from stdin (-f -) to
// the copy of polyarch that re-executes itself in a user namespace,
// which finds stdin already read.
const stdinContainerfileEnv = "_POLYARCH_STDIN_CONTAINERFILE"

// maxStdinContainerfile is the largest Containerfile -f - takes: the
// kernel's limit on one environment string.
const maxStdinContainerfile = 128<<10 - len(stdinContainerfileEnv) - 2

// buildExtraFlags are the flags of polyarch build for metadata on the
// result, build inputs and timestamps, named as podman build and buildx
// name them.
type buildExtraFlags struct {
	Labels, UnsetLabels, Env, Annotations           cli.StringSlice
	IIDFile, MetadataFile                           string
	Secrets, SSH, BuildContexts, Volumes            cli.StringSlice
	AddHosts, Ulimits, CapAdd, CapDrop              cli.StringSlice
	IgnoreFile, Network, SourceDateEpoch, Timestamp string
	Isolation                                       string
	RewriteTimestamp, HTTPProxy                     bool
}

// newBuildExtraFlags returns the flags and the values they fill.
func newBuildExtraFlags() ([]cli.Flag, *buildExtraFlags) {
	x := &buildExtraFlags{}
	return append(metadataFlags(x), append(inputFlags(x), timeFlags(x)...)...), x
}

// metadataFlags set what the result carries and the files describing it.
func metadataFlags(x *buildExtraFlags) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "label", Usage: "`KEY=VALUE` label in every platform's config (repeatable)", Destination: &x.Labels},
		&cli.StringSliceFlag{Name: "unsetlabel", Usage: "remove label `KEY` inherited from the base image (repeatable)", Destination: &x.UnsetLabels},
		&cli.StringSliceFlag{Name: "env", Usage: "`KEY=VALUE` environment variable in every platform's config; KEY alone takes this environment's value (repeatable)", Destination: &x.Env},
		&cli.StringSliceFlag{Name: "annotation", Usage: "`[TYPE:]KEY=VALUE` annotation: on every platform's manifest (TYPE manifest, the default), on the index (index), or both (index,manifest) (repeatable)", Destination: &x.Annotations},
		&cli.StringFlag{Name: "iidfile", Usage: "write the result's digest (the index's, or the image's for one platform) to `FILE` once published", Destination: &x.IIDFile},
		&cli.StringFlag{Name: "metadata-file", Usage: "write a JSON description of the result (digests, names, per-platform manifests and configs) to `FILE` once published", Destination: &x.MetadataFile},
	}
}

// inputFlags set what RUN, COPY and FROM read besides the context.
func inputFlags(x *buildExtraFlags) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "secret", Usage: "secret `id=ID,src=FILE|env=VAR` for RUN --mount=type=secret, never stored in the image (repeatable)", Destination: &x.Secrets},
		&cli.StringSliceFlag{Name: "ssh", Usage: "SSH agent `default|ID[=SOCKET]` for RUN --mount=type=ssh (repeatable)", Destination: &x.SSH},
		&cli.StringSliceFlag{Name: "build-context", Usage: "named context `NAME=VALUE` for FROM NAME and COPY --from=NAME; VALUE is DIR, https://URL, docker-image://REF or oci-layout://DIR[:TAG] (repeatable)", Destination: &x.BuildContexts},
		&cli.StringFlag{Name: "ignorefile", Usage: "read exclusions from `FILE` instead of CONTEXT/.containerignore", Destination: &x.IgnoreFile},
		&cli.StringFlag{Name: "network", Value: "host", Usage: "network of RUN steps: host (the host's) or none (a network namespace of their own with only loopback)", Destination: &x.Network},
		&cli.BoolFlag{Name: "http-proxy", Value: true, Usage: "pass this environment's http_proxy, https_proxy, ftp_proxy and no_proxy (either case) to RUN steps, never into the image; --http-proxy=false keeps them out", Destination: &x.HTTPProxy},
		&cli.StringFlag{Name: "isolation", Value: "chroot", Usage: "how RUN steps are isolated: chroot (own PID, IPC, UTS and mount namespaces; needs no OCI runtime) or oci (crun or runc, where one works: see polyarch info)", Destination: &x.Isolation},
		&cli.StringSliceFlag{Name: "add-host", Usage: "`HOST:IP` entry in /etc/hosts of RUN steps (comma list or repeated)", Destination: &x.AddHosts},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount `SRC:DEST[:OPTS]` for RUN steps (repeatable)", Destination: &x.Volumes},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "`TYPE=SOFT[:HARD]` resource limit of RUN steps (default: nofile and nproc as polyarch's own)", Destination: &x.Ulimits},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add `CAP` to RUN steps' capabilities (comma list or repeated)", Destination: &x.CapAdd},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop `CAP` from RUN steps' capabilities (comma list or repeated)", Destination: &x.CapDrop},
	}
}

// timeFlags clamp the result's timestamps.
func timeFlags(x *buildExtraFlags) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source-date-epoch", Usage: "created time of images and history, in `SECONDS` since the epoch; sets the SOURCE_DATE_EPOCH build arg", EnvVars: []string{"SOURCE_DATE_EPOCH"}, Destination: &x.SourceDateEpoch},
		&cli.BoolFlag{Name: "rewrite-timestamp", Usage: "clamp file times in new layers to --source-date-epoch", Destination: &x.RewriteTimestamp},
		&cli.StringFlag{Name: "timestamp", Usage: "created time of images and history, and time of every file in new layers, in `SECONDS` since the epoch", Destination: &x.Timestamp},
	}
}

// apply validates the flags' syntax and sets them in opts; file is the
// -f value ("-" reads the Containerfile from stdin).
func (x *buildExtraFlags) apply(opts *builder.Options, file string) error {
	if err := x.applyMetadata(&opts.Metadata); err != nil {
		return err
	}
	if err := x.applyTime(&opts.Time); err != nil {
		return err
	}
	opts.Inputs = builder.InputOptions{
		Secrets: x.Secrets.Value(), SSH: x.SSH.Value(), BuildContexts: x.BuildContexts.Value(),
		IgnoreFile: x.IgnoreFile, Network: x.Network, AddHosts: commaList(x.AddHosts), Volumes: x.Volumes.Value(),
		Ulimits: commaList(x.Ulimits), CapAdd: commaList(x.CapAdd), CapDrop: commaList(x.CapDrop),
		Isolation: x.Isolation, NoHTTPProxy: !x.HTTPProxy,
	}
	if file != "-" {
		return nil
	}
	data, err := stdinContainerfile(os.Stdin)
	if err != nil {
		return err
	}
	opts.Containerfile, opts.Inputs.ContainerfileData = "", data
	return nil
}

// applyMetadata sorts annotations by where they go.
func (x *buildExtraFlags) applyMetadata(m *builder.MetadataOptions) error {
	*m = builder.MetadataOptions{Labels: x.Labels.Value(), UnsetLabels: x.UnsetLabels.Value(), Env: x.Env.Value(),
		IIDFile: x.IIDFile, MetadataFile: x.MetadataFile}
	for _, a := range x.Annotations.Value() {
		onManifest, onIndex, kv, err := builder.ParseAnnotation(a)
		if err != nil {
			return err
		}
		if onManifest {
			m.Annotations = append(m.Annotations, kv)
		}
		if onIndex {
			m.IndexAnnotations = append(m.IndexAnnotations, kv)
		}
	}
	return nil
}

// applyTime parses the epoch flags.
func (x *buildExtraFlags) applyTime(t *builder.TimeOptions) error {
	t.RewriteTimestamp = x.RewriteTimestamp
	for _, f := range []struct {
		flag, value string
		dest        **int64
	}{{"--source-date-epoch", x.SourceDateEpoch, &t.SourceDateEpoch}, {"--timestamp", x.Timestamp, &t.Timestamp}} {
		if f.value == "" {
			continue
		}
		n, err := builder.ParseEpoch(f.flag, f.value)
		if err != nil {
			return err
		}
		*f.dest = &n
	}
	return nil
}

// stdinContainerfile reads the Containerfile of -f - from stdin, or, in
// the copy of polyarch re-executed in a user namespace, from what the
// first copy read.
func stdinContainerfile(stdin io.Reader) ([]byte, error) {
	if data, ok := os.LookupEnv(stdinContainerfileEnv); ok && session.InNamespace() {
		_ = os.Unsetenv(stdinContainerfileEnv)
		return []byte(data), nil
	}
	data, err := io.ReadAll(io.LimitReader(stdin, int64(maxStdinContainerfile)+1))
	if err != nil {
		return nil, fmt.Errorf("-f -: reading the Containerfile from stdin: %w", err)
	}
	if len(data) > maxStdinContainerfile {
		return nil, fmt.Errorf("-f -: the Containerfile on stdin is larger than %d KiB: write it to a file and pass -f FILE", maxStdinContainerfile>>10)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, fmt.Errorf("-f -: stdin holds no Containerfile: pipe one in, e.g. polyarch build -f - . < Containerfile")
	}
	if err := os.Setenv(stdinContainerfileEnv, string(data)); err != nil {
		return nil, err
	}
	return data, nil
}

// commaList splits comma lists in a repeatable flag, as podman's
// string-slice flags do.
func commaList(s cli.StringSlice) []string {
	var out []string
	for _, v := range s.Value() {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}
