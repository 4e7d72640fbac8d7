package builder

import "testing"

func TestIsHelper(t *testing.T) {
	for argv0, want := range map[string]bool{
		"buildah-copier": true, "buildah-chroot-runtime": true, "storage-untar": true, "chrootuser-open": true,
		"/usr/local/bin/polyarch": false, "polyarch-in-a-user-namespace": false, "polyarch": false,
	} {
		if got := isHelper(argv0); got != want {
			t.Errorf("isHelper(%q) = %v, want %v", argv0, got, want)
		}
	}
}
