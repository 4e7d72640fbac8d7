package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polyarch/polyarch/builder"
	"github.com/urfave/cli/v2"
)

// TestBuildCacheFlagsRejectBadValues checks that bad cache and format
// flags exit 125 with a message naming the flag, before any work (no
// store is created).
func TestBuildCacheFlagsRejectBadValues(t *testing.T) {
	t.Setenv("BUILDAH_FORMAT", "")
	checkBuildUsageErrors(t, scratchContext(t), []usageCase{
		{"cache-from with tag", []string{"--cache-from", "quay.io/you/cache:1"}, `invalid --cache-from "quay.io/you/cache:1": give a repository without tag or digest`},
		{"cache-to with digest", []string{"--cache-to", "quay.io/you/cache@sha256:" + strings.Repeat("a", 64)}, "invalid --cache-to"},
		{"cache-to without registry", []string{"--cache-to", "localhost/cache"}, "it names no registry"},
		{"cache-from bad name", []string{"--cache-from", "quay.io/You/Cache"}, "invalid --cache-from"},
		{"cache-to empty", []string{"--cache-to", ""}, "invalid --cache-to"},
		{"layers=false with cache-from", []string{"--layers=false", "--cache-from", "quay.io/you/cache"}, "--cache-from and --cache-to need --layers"},
		{"layers=false with cache-to", []string{"--layers=false", "--cache-to", "quay.io/you/cache"}, "need --layers"},
		{"cache-ttl negative", []string{"--cache-ttl", "-1h"}, "invalid --cache-ttl"},
		{"cache-ttl garbage", []string{"--cache-ttl", "soon"}, "cache-ttl"},
		{"format unknown", []string{"--format", "oci-archive"}, `invalid --format "oci-archive": use oci or docker`},
		{"format docker to a layout", []string{"--format", "docker", "-o", "type=oci,dest=" + filepath.Join(t.TempDir(), "out")}, "--format docker cannot be written to -o type=oci"},
		{"format docker to an archive", []string{"--format", "docker", "-o", "type=oci-archive,dest=" + filepath.Join(t.TempDir(), "a.tar")}, "cannot be written to -o type=oci-archive"},
		{"format docker with zstd", []string{"--format", "docker", "--compression-format", "zstd"}, "--compression-format zstd needs OCI manifests"},
		{"format docker with annotation", []string{"--format", "docker", "--annotation", "k=v"}, "--annotation needs --format oci"},
	})
}

// TestBuildCacheFlagsApply checks the options the flags give, defaults
// included.
func TestBuildCacheFlagsApply(t *testing.T) {
	t.Setenv("BUILDAH_FORMAT", "")
	for _, tc := range []struct {
		name string
		args []string
		want builder.Options
	}{
		{"defaults", nil, builder.Options{Format: builder.FormatOCI}},
		{"layers off", []string{"--layers=false"}, builder.Options{Format: builder.FormatOCI, Cache: builder.CacheOptions{FinalOnly: true}}},
		{"registry cache", []string{"--cache-from", "r.io/a/c", "--cache-from", "r.io/b/c", "--cache-to", "r.io/a/c", "--cache-ttl", "2h"},
			builder.Options{Format: builder.FormatOCI, Cache: builder.CacheOptions{From: []string{"r.io/a/c", "r.io/b/c"}, To: []string{"r.io/a/c"}, TTL: 2 * time.Hour}}},
		{"docker", []string{"--format", "docker"}, builder.Options{Format: builder.FormatDocker}},
		{"v2s2 is docker", []string{"--format", "v2s2"}, builder.Options{Format: builder.FormatDocker}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, x := newBuildCacheFlags()
			app := &cli.App{Flags: flags, Action: func(*cli.Context) error { return nil }}
			if err := app.Run(append([]string{"test"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			var got builder.Options
			if err := x.apply(&got); err != nil {
				t.Fatal(err)
			}
			if got.Format != tc.want.Format || got.Cache.FinalOnly != tc.want.Cache.FinalOnly || got.Cache.TTL != tc.want.Cache.TTL ||
				strings.Join(got.Cache.From, " ") != strings.Join(tc.want.Cache.From, " ") || strings.Join(got.Cache.To, " ") != strings.Join(tc.want.Cache.To, " ") {
				t.Errorf("options = format %q cache %+v, want format %q cache %+v", got.Format, got.Cache, tc.want.Format, tc.want.Cache)
			}
		})
	}
}
