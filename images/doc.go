// Package images manages what local containers-storage holds, as podman's
// image commands do and on the same library (go.podman.io/common/libimage):
// List (polyarch images) names every image or index with its platforms,
// Remove (rmi) removes indexes and, on request, the platform images no
// other name holds, Prune removes dangling images, leftover build
// containers and what containers/storage's Check finds damaged, and Tag
// adds names. An index is a manifest list in local storage (podman
// manifest's); its platform images are untagged and belong to it.
package images
