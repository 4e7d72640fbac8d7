package images

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
)

// WriteTable writes imgs as podman images does, one row per name
// (<none> for an untagged image): NAME, PLATFORMS, IMAGE ID (12 digits),
// SIZE and CREATED, relative to now.
func WriteTable(w io.Writer, imgs []Image, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPLATFORMS\tIMAGE ID\tSIZE\tCREATED")
	for _, img := range imgs {
		names := img.Names
		if len(names) == 0 {
			names = []string{"<none>"}
		}
		platforms := strings.Join(img.Platforms, ",")
		if platforms == "" {
			platforms = "-"
		}
		for _, n := range names {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s ago\n", n, platforms, shortID(img.ID),
				units.HumanSizeWithPrecision(float64(img.Size), 3), units.HumanDuration(now.Sub(img.Created)))
		}
	}
	return tw.Flush()
}

// shortID is the 12-digit form of an image ID, as podman prints it.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
