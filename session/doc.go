// Package session is polyarch's local-session plumbing: which
// containers-storage store to open and with which driver, how to enter
// polyarch's own user and mount namespace, and which credentials file
// to read. builder, index and the CLI all use it; it imports no other
// polyarch package (a test in cmd/polyarch enforces that).
//
// The rules it keeps:
//
//   - The store is used as podman made it: the driver configured
//     (--storage-driver, STORAGE_DRIVER, storage.conf), else the one the
//     graph root already holds, else storage's default. A second driver
//     is never created in an existing store; a store that already has
//     two is an error naming the one that holds images (ResolveStore).
//   - Library code never re-executes the process, sets its environment,
//     changes its log level or exits it. StorageNamespace,
//     RootNamespace and MountNamespace return a *Reexec: main runs it, forwarding signals,
//     and exits with the child's status.
//   - An unreadable default credentials file is skipped, as podman skips
//     it; only a file the user named is an error (AuthFile).
package session
