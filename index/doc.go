// Package index assembles, stores, exports, pushes, copies and inspects
// multi-platform OCI image indexes, on containers/image and
// containers-storage.
//
// Indexes named in local storage (create.go, list*.go) are the ones podman
// sees with `podman manifest inspect`. Export writes OCI layouts and
// archives atomically; PushStored and PushOrdered push in a guaranteed
// order (all blobs, then child manifests by digest, then the tagged index);
// Copy promotes all platforms between any two transports keeping digests;
// Explain turns registry failures into errors that say what to do.
package index
