package builder

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Platform outcomes in a PlatformReport.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// PlatformReport is one platform's outcome in a --keep-going build, as
// printed and written to --metadata-file (polyarch.report).
type PlatformReport struct {
	Platform string `json:"platform"`
	// Status is StatusOK or StatusFailed.
	Status string `json:"status"`
	// Step is the Containerfile instruction that failed, when known.
	Step string `json:"step,omitempty"`
	// Error is the failure, without the platform prefix.
	Error string `json:"error,omitempty"`
}

// PartialError is what a --keep-going Build returns when a platform
// failed: with Published, the others were published and the CLI exits
// ExitPartial; without, every platform failed and nothing was.
type PartialError struct {
	// Report lists every platform's outcome, in requested order.
	Report []PlatformReport
	// Errs are the failures of the failed platforms.
	Errs []error
	// Published is true when the platforms that succeeded were published.
	Published bool
}

// Error names the failed platforms and what was published.
func (e *PartialError) Error() string {
	if !e.Published {
		return fmt.Sprintf("every platform failed, nothing was published (--keep-going): %v", errors.Join(e.Errs...))
	}
	var failed, ok []string
	for _, r := range e.Report {
		if r.Status == StatusFailed {
			failed = append(failed, r.Platform)
		} else {
			ok = append(ok, r.Platform)
		}
	}
	return fmt.Sprintf("%s failed; %s built and published (--keep-going)", strings.Join(failed, ", "), strings.Join(ok, ", "))
}

// Unwrap returns the platforms' failures.
func (e *PartialError) Unwrap() []error { return e.Errs }

// stepPattern finds the instruction in buildah's "building at STEP ...: " errors.
var stepPattern = regexp.MustCompile(`building at STEP "(.*?)": `)

// failedStep returns the instruction a buildah error names, or "".
func failedStep(err error) string {
	if m := stepPattern.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// keepGoing splits the outcome of buildPlatforms: the images of the
// platforms that succeeded, in requested order, and the report of every
// platform. With every platform failed it returns a *PartialError.
func keepGoing(o *Options, images []PlatformImage, failures []error) ([]PlatformImage, []PlatformReport, error) {
	var ok []PlatformImage
	var report []PlatformReport
	for i, p := range o.Platforms {
		r := PlatformReport{Platform: emulation.FormatPlatform(p), Status: StatusOK}
		if failures[i] != nil {
			r.Status, r.Step = StatusFailed, failedStep(failures[i])
			r.Error = strings.TrimPrefix(failures[i].Error(), "["+r.Platform+"] ")
		} else {
			ok = append(ok, images[i])
		}
		report = append(report, r)
	}
	if len(ok) == 0 {
		return nil, report, &PartialError{Report: report, Errs: failures}
	}
	return ok, report, nil
}

// publishKept publishes the images built (with --keep-going, those of
// the platforms that succeeded) and writes the result files; a failed
// platform makes it return the result and a published *PartialError.
func publishKept(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, images []PlatformImage, failures []error, tags []string, early *earlyStager) (*Result, error) {
	var report []PlatformReport
	if o.Fanout.KeepGoing {
		var err error
		if images, report, err = keepGoing(o, images, failures); err != nil {
			return nil, err
		}
	}
	res, err := publish(ctx, o, store, sys, images, tags, early)
	if err != nil {
		return nil, err
	}
	res.Report = report
	if err := writeResultFiles(o.Metadata, store, res, tags); err != nil {
		return nil, err
	}
	return res, partial(report, failures)
}

// published reports whether err is a --keep-going partial success.
func published(err error) bool {
	var pe *PartialError
	return errors.As(err, &pe) && pe.Published
}

// partial returns the *PartialError of a report with failures, or nil.
func partial(report []PlatformReport, failures []error) error {
	var errs []error
	for _, err := range failures {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &PartialError{Report: report, Errs: errs, Published: true}
}
