package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestReadMetadataFile checks the children a metadata file names and
// where they are looked for.
func TestReadMetadataFile(t *testing.T) {
	d1, d2 := digest.FromString("one"), digest.FromString("two")
	for _, tc := range []struct {
		name, json, wantErr, wantRepo string
		wantDigests                   []digest.Digest
	}{
		{name: "push by digest", json: `{"containerimage.digest":"` + d1.String() + `","image.name":"reg.example:5000/app@` + d1.String() + `","polyarch.platforms":[{"platform":"linux/arm64","containerimage.digest":"` + d1.String() + `"}]}`,
			wantRepo: "reg.example:5000/app", wantDigests: []digest.Digest{d1}},
		{name: "two platforms", json: `{"containerimage.digest":"` + d1.String() + `","image.name":"reg.example/app:1","polyarch.platforms":[{"platform":"linux/amd64","containerimage.digest":"` + d1.String() + `"},{"platform":"linux/s390x","containerimage.digest":"` + d2.String() + `"}]}`,
			wantRepo: "reg.example/app", wantDigests: []digest.Digest{d1, d2}},
		{name: "buildx file", json: `{"containerimage.digest":"` + d2.String() + `","image.name":"reg.example/app"}`, wantRepo: "reg.example/app", wantDigests: []digest.Digest{d2}},
		{name: "layout build", json: `{"containerimage.digest":"` + d1.String() + `","polyarch.platforms":[{"platform":"linux/amd64","containerimage.digest":"` + d1.String() + `"}]}`, wantDigests: []digest.Digest{d1}},
		{name: "no digest", json: `{"image.name":"reg.example/app"}`, wantErr: "no containerimage.digest"},
		{name: "bad platform", json: `{"containerimage.digest":"` + d1.String() + `","polyarch.platforms":[{"platform":"linux/nope/x/y","containerimage.digest":"` + d1.String() + `"}]}`, wantErr: "platform"},
		{name: "bad digest", json: `{"containerimage.digest":"` + d1.String() + `","polyarch.platforms":[{"platform":"linux/amd64","containerimage.digest":"sha256:12"}]}`, wantErr: "invalid containerimage.digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "md.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			srcs, err := ReadMetadataFile(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(srcs) != len(tc.wantDigests) {
				t.Fatalf("got %d sources, error %v; want %d", len(srcs), err, len(tc.wantDigests))
			}
			for i, s := range srcs {
				if s.Digest != tc.wantDigests[i] || locationRepo(s) != tc.wantRepo {
					t.Errorf("source %d: %s in %q, want %s in %q", i, s.Digest, locationRepo(s), tc.wantDigests[i], tc.wantRepo)
				}
			}
		})
	}
}

// locationRepo is the repository a source names, "" for none.
func locationRepo(s MergeSource) string {
	if s.Ref == nil {
		return ""
	}
	return locationName(s.Ref)
}

// TestAddChild checks duplicate handling: one manifest named twice is
// kept once, two manifests of one platform are refused naming both.
func TestAddChild(t *testing.T) {
	amd64 := specs.Platform{OS: "linux", Architecture: "amd64"}
	a := mergeChild{child: child{digest: digest.FromString("a")}, platform: amd64, origin: "a.json"}
	b := mergeChild{child: child{digest: digest.FromString("b")}, platform: amd64, origin: "b.json"}
	arm := mergeChild{child: child{digest: digest.FromString("c")}, platform: specs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, origin: "c.json"}
	got, err := addChild([]mergeChild{a}, a)
	if err != nil || len(got) != 1 {
		t.Errorf("the same child twice: %d children, error %v; want 1", len(got), err)
	}
	if _, err := addChild([]mergeChild{a}, b); err == nil || !strings.Contains(err.Error(), "two children for linux/amd64") || !strings.Contains(err.Error(), "b.json") {
		t.Errorf("two amd64 children: error %v", err)
	}
	if got, err := addChild([]mergeChild{a}, arm); err != nil || len(got) != 2 {
		t.Errorf("amd64 then arm64: %d children, error %v", len(got), err)
	}
}

// TestCheckPlatform checks a child's config against its claimed platform.
func TestCheckPlatform(t *testing.T) {
	arm64 := specs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name    string
		claimed *specs.Platform
		config  specs.Platform
		wantErr string
	}{
		{"unclaimed", nil, arm64, ""},
		{"variant spelling", &arm64, specs.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, ""},
		{"disagrees", &arm64, specs.Platform{OS: "linux", Architecture: "amd64"}, "its config says linux/amd64"},
		{"no platform", nil, specs.Platform{}, "no platform in its config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPlatform(mergeWant{src: MergeSource{Origin: "x.json"}, digest: digest.FromString("x"), platform: tc.claimed}, tc.config)
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
