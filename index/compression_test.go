package index

import (
	"strings"
	"testing"
)

func TestCompressionValidate(t *testing.T) {
	level := func(n int) *int { return &n }
	for _, tc := range []struct {
		c    Compression
		v2s2 bool
		err  string
	}{
		{c: Compression{}},
		{c: Compression{Format: Gzip, Level: level(9)}},
		{c: Compression{Level: level(0)}},
		{c: Compression{Format: Zstd, Level: level(22)}},
		{c: Compression{Format: ZstdChunked}},
		{c: Compression{Format: Gzip}, v2s2: true},
		{c: Compression{Format: "lz4"}, err: `invalid --compression-format "lz4": use gzip, zstd or zstd:chunked`},
		{c: Compression{Level: level(10)}, err: "invalid --compression-level 10 for gzip: use 0 to 9"},
		{c: Compression{Format: Zstd, Level: level(0)}, err: "invalid --compression-level 0 for zstd: use 1 to 22"},
		{c: Compression{Format: Zstd}, v2s2: true, err: "--compression-format zstd needs OCI manifests"},
	} {
		err := tc.c.Validate()
		if err == nil && tc.v2s2 {
			err = tc.c.checkFormat(FormatV2S2)
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.c, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: error %v, want one containing %q", tc.c, err, tc.err)
		}
	}
}

func TestCompressionApply(t *testing.T) {
	level := 5
	sys, err := Compression{Format: ZstdChunked, Level: &level}.apply(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if !sys.DirForceCompress || sys.CompressionFormat == nil || sys.CompressionFormat.Name() != ZstdChunked || *sys.CompressionLevel != 5 {
		t.Errorf("apply gave DirForceCompress %v, format %v, level %v", sys.DirForceCompress, sys.CompressionFormat, sys.CompressionLevel)
	}
	sys, err = Compression{}.apply(sys, false)
	if err != nil || sys.DirForceCompress || sys.CompressionLevel != nil || sys.CompressionFormat == nil {
		t.Errorf("an empty Compression must keep sys's format and clear the rest: %+v, %v", sys, err)
	}
}
