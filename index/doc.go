// Package index assembles, stores, exports, pushes, copies and inspects
// multi-platform OCI image indexes, on containers/image and
// containers-storage.
//
// Indexes named in local storage (create.go, list*.go) are the ones podman
// sees with `podman manifest inspect`; each entry's platform is its image
// config's. Stage reads a stored index out of local storage once, with
// compressed layers, and every output is written from that copy byte for
// byte: Staged.Export writes OCI layouts and archives atomically,
// Staged.PushContent and PushTag push in a guaranteed order (all blobs,
// then child manifests by digest, then the tagged index); Copy promotes
// all platforms, or some, between any two transports keeping digests;
// Explain turns registry failures into errors that say what to do.
package index
