package builder

import (
	"fmt"
	"strconv"
	"time"

	"go.podman.io/buildah/define"
)

// ParseEpoch parses a time given in seconds since the epoch, as
// --source-date-epoch, SOURCE_DATE_EPOCH and --timestamp take it; flag
// names the flag in the error.
func ParseEpoch(flag, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s %q: use whole seconds since 1970-01-01 UTC, e.g. %s 1700000000 (date +%%s)", flag, s, flag)
	}
	return n, nil
}

// validate rejects combinations buildah would refuse midway.
func (t TimeOptions) validate() error {
	if t.SourceDateEpoch != nil && t.Timestamp != nil {
		return fmt.Errorf("--timestamp and --source-date-epoch (or SOURCE_DATE_EPOCH) are mutually exclusive: --timestamp also sets every file time, --source-date-epoch only clamps them with --rewrite-timestamp")
	}
	if t.RewriteTimestamp && t.SourceDateEpoch == nil {
		return fmt.Errorf("--rewrite-timestamp needs --source-date-epoch N (or SOURCE_DATE_EPOCH) to clamp file times to")
	}
	return nil
}

// apply sets the time fields of buildah's options.
func (t TimeOptions) apply(opts *define.BuildOptions) {
	opts.SourceDateEpoch = epochTime(t.SourceDateEpoch)
	opts.Timestamp = epochTime(t.Timestamp)
	opts.RewriteTimestamp = t.RewriteTimestamp
}

// epochTime converts seconds since the epoch, if set, to a UTC time.
func epochTime(secs *int64) *time.Time {
	if secs == nil {
		return nil
	}
	t := time.Unix(*secs, 0).UTC()
	return &t
}
