// Package emulation runs foreign-architecture build steps through
// qemu-user-static and the kernel's binfmt_misc.
//
// It holds the emulator table (architecture to qemu target, ELF magic and
// mask, taken from QEMU's scripts/qemu-binfmt-conf.sh), finds statically
// linked qemu interpreters, reads and writes binfmt_misc handlers at a given
// mount point, and decides whether a platform works by executing a tiny
// program of that architecture (Probe) rather than by reading /proc.
//
// It is also polyarch's one platform vocabulary: ParsePlatform(s),
// NormalizePlatform, FormatPlatform and HostPlatform accept Debian and
// kernel spellings (aarch64, armhf, ppc64el, x86_64, i686...) and only the
// table's platforms, for builder, index and the CLI alike.
//
// Native asks the kernel: the host's architecture is native; 386 on amd64
// and arm on arm64 are native only if their probe runs with no handler
// (kernels without IA32 emulation or CPUs without AArch32 run neither), so
// the table's emulator serves them otherwise.
//
// Handlers are registered with the flags "PF": F opens the interpreter at
// registration, so it keeps working inside chroots and other mount
// namespaces; P preserves argv[0], which busybox-style multi-call binaries
// need.
//
// Handlers live in one of two places (Mode):
//
//   - host: the initial user namespace's binfmt_misc. Changing it needs
//     root and affects the whole machine.
//   - private: since Linux 6.7 every user namespace may mount its own
//     binfmt_misc instance. MountPrivate mounts one inside polyarch's own
//     user and mount namespace, copies the handlers that were visible
//     before (a fresh instance would otherwise hide them) except the
//     table's qemu handlers that builds cannot use (lacking P or F, or
//     with their interpreter gone), and the builder then registers what it
//     needs there. The host is never touched.
//
// On top of these: Ensure keeps a working handler or registers and proves
// one; Install and Uninstall do that (or undo it, for the handlers polyarch
// registered) for a list of platforms in the host's binfmt_misc; Persist
// and Unpersist manage the binfmt.d(5) files that make systemd-binfmt
// register the handlers at boot; Status reports every platform, checking
// private mode by re-executing the program in a new user and mount
// namespace (so programs using Status must call reexec.Init, or
// buildah.InitReexec, first thing in main).
//
// The package never writes to a terminal; results come back as values and
// errors.
package emulation
