// Package check holds the checks of package verify that work on bytes,
// with no transport, storage or registry: reading ELF headers, what a
// platform's ELF files must say, following files through layer tars with
// their whiteouts, and decoding and classifying index entries.
//
// It imports only the standard library, the OCI image spec and package
// emulation, so its fuzz targets (FuzzReadELFHeader, FuzzDecodeIndex)
// build quickly.
package check
