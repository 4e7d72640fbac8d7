package index

import "testing"

// TestHasTransport tells transports from registry host:port names,
// including storage IDs that start with a digit.
func TestHasTransport(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"docker://quay.io/app:1", true},
		{"oci:/tmp/layout:1", true},
		{"containers-storage:localhost/app:1", true},
		{"containers-storage:622b789ed0666a35298cbef216582262fec4b12049b191f06677f2c5e194b8d6", true},
		{"localhost:5000/app", false},
		{"oci:5000/app", false},
		{"app:1", false},
		{"quay.io/app", false},
	}
	for _, tc := range tests {
		if got := HasTransport(tc.in); got != tc.want {
			t.Errorf("HasTransport(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
