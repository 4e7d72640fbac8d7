package builder

import "testing"

func TestContextOverlay(t *testing.T) {
	const ours = "611 29 0:97 / /var/tmp/buildah-context-1/overlay/2/merge rw,relatime - overlay overlay rw,lowerdir=/tmp/ctx,upperdir=/var/tmp/buildah-context-1/overlay/2/upper,workdir=/var/tmp/buildah-context-1/overlay/2/work"
	for _, tc := range []struct {
		name, line, point string
	}{
		{"the context's overlay", ours, "/var/tmp/buildah-context-1/overlay/2/merge"},
		{"another context", "611 29 0:97 / /var/tmp/buildah-context-1/overlay/2/merge rw - overlay overlay rw,lowerdir=/tmp/ctx2,upperdir=/u", ""},
		{"a store's overlay", "612 29 0:98 / /var/lib/containers/storage/overlay/abc/merged rw - overlay overlay rw,lowerdir=/tmp/ctx,upperdir=/u", ""},
		{"not overlay", "613 29 0:99 / /var/tmp/buildah-context-1/overlay/2/merge rw - tmpfs tmpfs rw", ""},
		{"short line", "1 2 3", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			point, ok := contextOverlay(tc.line, "/tmp/ctx")
			if point != tc.point || ok != (tc.point != "") {
				t.Errorf("contextOverlay = %q, %v; want %q", point, ok, tc.point)
			}
		})
	}
}
