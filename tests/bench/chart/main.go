// Command chart draws the ratios of tests/bench/run as an SVG bar chart.
//
//	go run ./tests/bench/chart < ratios.tsv > tests/bench/ratios.svg
//
// Each input line is "LABEL<TAB>RATIO<TAB>TARGET" (TARGET may be empty or
// "-"): one horizontal bar per line, green when the ratio meets its
// target (ratio <= target), red when it misses it, grey without a
// target; a dashed line marks 1.0 (as fast as the anchor) and a black
// tick each bar's target.
package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// bar is one ratio to draw.
type bar struct {
	label  string
	ratio  float64
	target float64 // 0: none
}

// Layout of the chart, in pixels.
const (
	labelWidth = 330
	plotWidth  = 420
	rowHeight  = 26
	top        = 40
	bottom     = 40
)

func main() {
	bars, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	if len(bars) == 0 {
		fmt.Fprintln(os.Stderr, "chart: no ratios on stdin (LABEL<TAB>RATIO<TAB>TARGET lines)")
		os.Exit(1)
	}
	write(os.Stdout, bars)
}

// read parses the input lines.
func read(r io.Reader) ([]bar, error) {
	var bars []bar
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want LABEL<TAB>RATIO[<TAB>TARGET], got %q", n, line)
		}
		b := bar{label: f[0]}
		var err error
		if b.ratio, err = strconv.ParseFloat(f[1], 64); err != nil {
			return nil, fmt.Errorf("line %d: ratio %q: %w", n, f[1], err)
		}
		if len(f) > 2 && f[2] != "" && f[2] != "-" {
			if b.target, err = strconv.ParseFloat(f[2], 64); err != nil {
				return nil, fmt.Errorf("line %d: target %q: %w", n, f[2], err)
			}
		}
		bars = append(bars, b)
	}
	return bars, sc.Err()
}

// write draws the bars as SVG.
func write(w io.Writer, bars []bar) {
	limit := 1.2
	for _, b := range bars {
		limit = math.Max(limit, math.Max(b.ratio, b.target)*1.1)
	}
	x := func(v float64) float64 { return labelWidth + v/limit*plotWidth }
	width, height := labelWidth+plotWidth+70, top+len(bars)*rowHeight+bottom
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="22" font-size="14" font-weight="bold">polyarch / anchor (time or RSS ratio; lower is better)</text>`+"\n", 10)
	for i, b := range bars {
		y := top + i*rowHeight
		color := "#999999"
		if b.target > 0 {
			color = "#2e9d4a"
			if b.ratio > b.target {
				color = "#d0453a"
			}
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth-8, y+16, html.EscapeString(b.label))
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelWidth, y+4, x(b.ratio)-labelWidth, rowHeight-8, color)
		fmt.Fprintf(w, `<text x="%.1f" y="%d">%.2f</text>`+"\n", x(b.ratio)+4, y+16, b.ratio)
		if b.target > 0 {
			fmt.Fprintf(w, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black" stroke-width="2"/>`+"\n", x(b.target), x(b.target), y+1, y+rowHeight-1)
		}
	}
	axis := top + len(bars)*rowHeight
	fmt.Fprintf(w, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black" stroke-dasharray="4 3"/>`+"\n", x(1), x(1), top, axis)
	fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", labelWidth, labelWidth+plotWidth, axis, axis)
	for v := 0.0; v <= limit; v += 0.5 {
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%.1f</text>`+"\n", x(v), axis+16, v)
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" fill="#555">bar: ratio (green meets its target, red misses it, grey: no target); black tick: target; dashed: 1.0</text>`+"\n", 10, axis+34)
	fmt.Fprintln(w, "</svg>")
}
