package builder

// MetadataOptions is what a build writes on its result besides the
// content: configuration, annotations, and files describing the result.
// Every platform's image gets the same values.
type MetadataOptions struct {
	// Labels are KEY=VALUE labels set in every platform's config (--label).
	Labels []string
	// UnsetLabels are labels inherited from the base image and removed
	// (--unsetlabel).
	UnsetLabels []string
	// Env are KEY=VALUE variables set in every platform's config (--env); a
	// bare KEY takes the value of this process's environment.
	Env []string
	// Annotations are KEY=VALUE annotations of every platform's manifest
	// (--annotation KEY=VALUE or manifest:KEY=VALUE).
	Annotations []string
	// IndexAnnotations are KEY=VALUE annotations of the index
	// (--annotation index:KEY=VALUE); they need two platforms or more.
	IndexAnnotations []string
	// IIDFile receives the result's digest (index digest, or image digest
	// for one platform) once everything is published (--iidfile).
	IIDFile string
	// MetadataFile receives a JSON description of the result (see
	// BuildMetadata) once everything is published (--metadata-file).
	MetadataFile string
}

// InputOptions are what RUN, COPY and FROM read besides the build context.
type InputOptions struct {
	// ContainerfileData is the Containerfile itself when it comes from no
	// file (polyarch build -f -); Options.Containerfile is then unused.
	ContainerfileData []byte
	// Secrets are id=ID[,src=FILE|env=VAR] values for RUN
	// --mount=type=secret, in buildah's syntax (--secret).
	Secrets []string
	// SSH are default|ID[=SOCKET|KEY,...] agent sources for RUN
	// --mount=type=ssh (--ssh).
	SSH []string
	// BuildContexts are NAME=DIR|URL|docker-image://REF|oci-layout://DIR[:TAG]
	// named contexts for FROM and COPY --from (--build-context).
	BuildContexts []string
	// IgnoreFile replaces CONTEXT/.containerignore (--ignorefile).
	IgnoreFile string
	// Network is the network of RUN steps: NetworkHost (the default,
	// "" too) or NetworkNone, a network namespace of its own with only
	// loopback, with either isolation (--network).
	Network string
	// NoHTTPProxy keeps this environment's http_proxy, https_proxy,
	// ftp_proxy and no_proxy variables (either case) out of RUN steps;
	// by default they are passed in, never stored in the image
	// (--http-proxy=false).
	NoHTTPProxy bool
	// AddHosts are HOST:IP entries added to /etc/hosts of RUN steps
	// (--add-host).
	AddHosts []string
	// Volumes are SRC:DEST[:OPTIONS] bind mounts of RUN steps (--volume).
	Volumes []string
	// Ulimits are TYPE=SOFT[:HARD] limits of RUN steps (--ulimit); nofile
	// and nproc default to polyarch's own current limits.
	Ulimits []string
	// CapAdd and CapDrop change the capabilities of RUN steps
	// (--cap-add, --cap-drop).
	CapAdd, CapDrop []string
	// Isolation is how RUN steps are isolated: IsolationChroot (default)
	// or IsolationOCI (--isolation).
	Isolation string
	// ociRuntime is the OCI runtime Build found for IsolationOCI, and
	// ociState the directory of its state.
	ociRuntime, ociState string
}

// TimeOptions clamp the timestamps of the result, for reproducible builds.
type TimeOptions struct {
	// SourceDateEpoch, in seconds since the epoch, is the created time of
	// the images and of new history entries (--source-date-epoch,
	// SOURCE_DATE_EPOCH). Default (nil): now.
	SourceDateEpoch *int64
	// RewriteTimestamp clamps file times in new layers to SourceDateEpoch
	// (--rewrite-timestamp).
	RewriteTimestamp bool
	// Timestamp, in seconds since the epoch, is the created time of the
	// images and history, and the time of every file in new layers
	// (--timestamp). Default (nil): now.
	Timestamp *int64
}
