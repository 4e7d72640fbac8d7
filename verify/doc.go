// Package verify checks that an image is what its labels say it is.
//
// Image reads an image or index on any containers/image transport and, for
// every image in it, checks that:
//
//  1. the index entry's platform is the one its config records (os,
//     architecture, variant, compared normalised: arm64 equals arm64/v8);
//  2. the ELF files of its layers are programs for that platform: class,
//     byte order and e_machine, and for 32-bit arm the EABI version and
//     float ABI where the header states them (arm/v7 is hard-float, arm/v5
//     soft-float, arm/v6 either). By default the program and library
//     directories are scanned (/bin, /sbin, /usr/bin, /usr/sbin,
//     /usr/local/bin, /lib*, /usr/lib*, except firmware); AllFiles scans
//     everything;
//  3. no entry lacks a platform or says unknown/unknown, which consumers
//     would take for an image; attestation manifests (entries annotated
//     vnd.docker.reference.type) are reported as such, not as images.
//
// Layers are streamed: each blob is decompressed on the fly and only tar
// headers and the first 64 bytes of each regular file are read. Whiteouts
// are honoured, so a file deleted or hidden by an upper layer does not
// count. A 32-bit compatibility library (i386 in an amd64 image) is a
// mismatch too: polyarch judges labels, not what a kernel could run.
//
// The checks on bytes (ELF headers, layer tars, index entries) live in
// package verify/check, which needs no transport; this package reads
// images and reports. It writes nothing to the terminal: Report.WriteTable
// and JSON encoding of Report are for callers.
package verify
