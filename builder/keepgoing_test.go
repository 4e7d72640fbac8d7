package builder

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestKeepGoingReport checks the per-platform report of a --keep-going
// build: requested order, the failed step, and an error only when every
// platform failed.
func TestKeepGoingReport(t *testing.T) {
	o := &Options{Platforms: []specs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "s390x"}}}
	runErr := errors.New(`[linux/s390x] building at STEP "RUN [ "$TARGETARCH" != s390x ]": while running runtime: exit status 1`)
	images := []PlatformImage{{Platform: o.Platforms[0], ImageID: "a"}, {}}
	ok, report, err := keepGoing(o, images, []error{nil, runErr})
	if err != nil || len(ok) != 1 || ok[0].ImageID != "a" {
		t.Fatalf("kept %+v, error %v; want the amd64 image", ok, err)
	}
	want := []PlatformReport{{Platform: "linux/amd64", Status: StatusOK},
		{Platform: "linux/s390x", Status: StatusFailed, Step: `RUN [ "$TARGETARCH" != s390x ]`, Error: strings.TrimPrefix(runErr.Error(), "[linux/s390x] ")}}
	for i := range want {
		if report[i] != want[i] {
			t.Errorf("report[%d] = %+v, want %+v", i, report[i], want[i])
		}
	}
	var pe *PartialError
	if err := partial(report, []error{nil, runErr}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "linux/s390x failed") {
		t.Errorf("partial: %v, want a *PartialError naming linux/s390x", err)
	}
	if err := partial(report, []error{nil, nil}); err != nil {
		t.Errorf("partial without failures: %v", err)
	}
	if _, _, err := keepGoing(o, make([]PlatformImage, 2), []error{runErr, runErr}); !errors.As(err, &pe) || pe.Published || published(err) || !strings.Contains(err.Error(), "nothing was published") {
		t.Errorf("every platform failed: error %v, want an unpublished *PartialError", err)
	}
}
