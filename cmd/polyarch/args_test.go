package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestPermuteArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"polyarch build . -t app:1 --platform linux/arm64", "polyarch build -t app:1 --platform linux/arm64 ."},
		{"polyarch --root /r build ctx --push -q", "polyarch --root /r build --push -q ctx"},
		{"polyarch build -t a ctx", "polyarch build -t a ctx"},
		{"polyarch index push NAME DEST --tls-verify=false", "polyarch index push --tls-verify=false NAME DEST"},
		{"polyarch copy SRC DST --all --retry 2", "polyarch copy --all --retry 2 SRC DST"},
		{"polyarch emulation install linux/arm64 --persist", "polyarch emulation install --persist linux/arm64"},
		{"polyarch build ctx -- -weird", "polyarch build ctx -- -weird"},
		{"polyarch index push app:1 oci:/x --help", "polyarch index push --help"},
		{"polyarch --version", "polyarch --version"},
		{"polyarch unknown x -y", "polyarch unknown x -y"},
	} {
		got, err := permuteArgs(newApp(), strings.Fields(tc.in))
		if err != nil {
			t.Errorf("permuteArgs(%q): %v", tc.in, err)
		}
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("permuteArgs(%q) = %q, want %q", tc.in, got, want)
		}
	}
}

func TestPermuteArgsMissingValue(t *testing.T) {
	_, err := permuteArgs(newApp(), strings.Fields("polyarch index create app:1 docker://r/a:1 --platform"))
	if err == nil || !strings.Contains(err.Error(), "flag --platform needs a value") || exitCode(err) != 125 {
		t.Errorf("err = %v, want exit 125 naming --platform", err)
	}
}
