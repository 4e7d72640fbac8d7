package index

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "app", want: "localhost/app:latest"},
		{in: "app:1", want: "localhost/app:1"},
		{in: "team/app:1", want: "localhost/team/app:1"},
		{in: "localhost/app:1", want: "localhost/app:1"},
		{in: "localhost:5000/app", want: "localhost:5000/app:latest"},
		{in: "quay.io/x/app:v2", want: "quay.io/x/app:v2"},
		{in: "127.0.0.1:5000/app:v1-amd64", want: "127.0.0.1:5000/app:v1-amd64"},
		{in: "", err: "empty image name"},
		{in: "App:1", err: "invalid image name"},
		{in: "app@sha256:" + strings.Repeat("a", 64), err: "digest"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeName(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NormalizeName(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestTagOf(t *testing.T) {
	for in, want := range map[string]string{"localhost/app:1": "1", "quay.io/a/b:v2": "v2", "localhost/app": "latest"} {
		if got := TagOf(in); got != want {
			t.Errorf("TagOf(%q) = %q, want %q", in, got, want)
		}
	}
}
