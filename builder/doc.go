// Package builder builds one Containerfile for several platforms into one
// OCI image index, on buildah's imagebuildah.
//
// NewPlan parses the Containerfile and plans the build once per process
// (stages, base images per platform, emulators); EnterNamespace and Build
// both use that plan (Options.Plan). Build then checks, before any work,
// that every push target answers with the push credentials and that every
// FROM image exists for every platform, prepares emulation through package
// emulation, builds the platforms in parallel, and publishes the result
// only when every platform succeeded: the index is assembled untagged,
// written to each output, pushed, and tagged last; the files describing
// the result (Options.Metadata: --iidfile, --metadata-file) are written
// after that. Named build contexts (Options.Inputs) are planned like
// bases: an image context is resolved per platform in preflight, never
// taken for a base image of its name.
//
// While it builds, Build makes the calling process a child subreaper
// (prctl PR_SET_CHILD_SUBREAPER), so that processes RUN steps orphan are
// re-parented to it, and it returns only when every RUN process is gone:
// on success, on failure, and when ctx ends (SIGTERM, then SIGKILL).
//
// Options and their defaults live in options.go and options_flags.go,
// which import no buildah.
// Processes that build must call buildah.InitReexec first thing in main,
// and EnterNamespace before Build: when it returns a *session.Reexec,
// main runs that instead (rootless and private-emulation builds run in
// polyarch's own user and mount namespace) and exits with its status.
package builder
