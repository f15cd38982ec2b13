// Command oracle prints the reference strings that test/format/units.test.ts checks the
// TypeScript ports against: Go's %g / strconv.FormatFloat / strconv.Quote / encoding/json string
// escaping / time.Time.String(), and go-units v0.5.0's HumanSize, BytesSize and HumanDuration
// (re-typed below from github.com/docker/go-units v0.5.0, the version docker CLI 28 vendors).
//
// Regenerate (needs a Go toolchain, e.g. Debian's golang-go, and the system tzdata):
//
//	cd test/format/oracle && GO111MODULE=off go run main.go > ../go-oracle.json
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"time"
)

var decimapAbbrs = []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
var binaryAbbrs = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}

func getSizeAndUnit(size float64, base float64, _map []string) (float64, string) {
	i := 0
	unitsLimit := len(_map) - 1
	for size >= base && i < unitsLimit {
		size = size / base
		i++
	}
	return size, _map[i]
}

func HumanSizeWithPrecision(size float64, precision int) string {
	size, unit := getSizeAndUnit(size, 1000.0, decimapAbbrs)
	return fmt.Sprintf("%.*g%s", precision, size, unit)
}

func BytesSize(size float64) string {
	size, unit := getSizeAndUnit(size, 1024.0, binaryAbbrs)
	return fmt.Sprintf("%.4g%s", size, unit)
}

const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
	year  = 365 * day
)

func roundDuration(d, unit time.Duration) int {
	return int(float64(d)/float64(unit) + 0.5)
}

func HumanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < 1 {
		return "Less than a second"
	} else if seconds == 1 {
		return "1 second"
	} else if seconds < 60 {
		return fmt.Sprintf("%d seconds", seconds)
	} else if minutes := int(d.Minutes()); minutes == 1 {
		return "About a minute"
	} else if minutes < 60 {
		return fmt.Sprintf("%d minutes", minutes)
	} else if hours := roundDuration(d, time.Hour); hours == 1 {
		return "About an hour"
	} else if hours < 48 {
		return fmt.Sprintf("%d hours", hours)
	} else if d < 2*week {
		return fmt.Sprintf("%d days", roundDuration(d, day))
	} else if d < 2*month {
		return fmt.Sprintf("%d weeks", roundDuration(d, week))
	} else if d < 2*year {
		return fmt.Sprintf("%d months", roundDuration(d, month))
	}
	return fmt.Sprintf("%d years", roundDuration(d, year))
}

type pair struct {
	In  string `json:"in"`
	Out string `json:"out"`
}

func key(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func main() {
	vals := []float64{0, 0.5, 1, 5e-324, 2.2250738585072014e-308, 1e-5, 0.0001, 0.00012345, 0.125, 0.375, 1.5, 2.5, 9.995,
		99.995, 999.5, 999.95, 999.949, 1000, 1023, 1024, 1234.5, 12345, 12355, 123456, 999949, 999950, 999999,
		1e6, 1048576, 1982387, 1e15, 1e21, 123456789, 3.42e9, 5.372e12, 2.22e15, 1e28, -1.5, math.Copysign(0, -1),
		1949696, 25276510208, 946, 1e100, 1.7976931348623157e308, 4.35, 0.045, 1.005, 2.675, 1e-7, 1.23456e-8,
		0.99995, 9.9995, 99999, 100000, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e-4, 9.99949e-5, 101.42, 99.45,
		0.005, 0.015, 0.025, 1.125, 100.125, 50.005}
	r := rand.New(rand.NewSource(42))
	for i := 0; i < 150; i++ {
		e := r.Intn(40) - 12
		vals = append(vals, r.Float64()*math.Pow(10, float64(e)))
	}
	for i := 0; i < 40; i++ {
		vals = append(vals, float64(r.Int63n(1<<50)))
	}
	for i := 0; i < 40; i++ { // exact binary ties in decimal: k/8, k/16
		vals = append(vals, float64(r.Intn(100000))/8, float64(r.Intn(100000))/16)
	}
	out := map[string]any{}
	g := []pair{}
	for _, p := range []int{1, 2, 3, 4, 6, 15, 17} {
		for _, v := range vals {
			g = append(g, pair{fmt.Sprintf("%d|%s", p, key(v)), fmt.Sprintf("%.*g", p, v)})
		}
	}
	out["g"] = g
	f := []pair{}
	for _, p := range []int{0, 1, 2, 3} {
		for _, v := range vals {
			f = append(f, pair{fmt.Sprintf("%d|%s", p, key(v)), strconv.FormatFloat(v, 'f', p, 64)})
		}
	}
	out["f"] = f
	hs, hs3, bs := []pair{}, []pair{}, []pair{}
	sizes := append([]float64{}, vals...)
	sizes = append(sizes, 999500, 999499, 999700, 1024*1024*1023.95, 1e27, 1e30, 1e33, 3*math.Pow(1024, 9))
	for _, v := range sizes {
		if v < 0 || math.Signbit(v) {
			continue
		}
		hs = append(hs, pair{key(v), HumanSizeWithPrecision(v, 4)})
		hs3 = append(hs3, pair{key(v), HumanSizeWithPrecision(v, 3)})
		bs = append(bs, pair{key(v), BytesSize(v)})
	}
	out["humanSize"], out["humanSize3"], out["bytesSize"] = hs, hs3, bs
	dur := []pair{}
	ms := []int64{-5000, 0, 450, 999, 1000, 1999, 2000, 59999, 60000, 119999, 120000, 3599999, 3600000,
		5340000, 5460000, 172799999, 172800000, 1209599999, 1209600000, 5183999999, 5184000000,
		63071999999, 63072000000, 94608000000, 1e12}
	for i := 0; i < 200; i++ {
		ms = append(ms, int64(math.Pow(10, r.Float64()*11.5)))
	}
	for _, m := range ms {
		dur = append(dur, pair{strconv.FormatInt(m, 10), HumanDuration(time.Duration(m) * time.Millisecond)})
	}
	out["humanDuration"] = dur
	q := []pair{}
	for _, s := range []string{"", "a b", "sh -c 'echo \"hi\"'", "tab\there", "nl\nx", "cr\rx", "bell\a", "bs\bff\fvt\v",
		"del\x7f", "é…日本", "\u200b", "\U0001F600", "\u2028", "back\\slash", "\x01\x1f", "\u00ad", "\ufeff",
		"\U000E0001", "\u00a0nbsp", "\u3000ideo", "ok…", "\ufffd"} {
		q = append(q, pair{s, strconv.Quote(s)})
	}
	out["quote"] = q
	js := []pair{}
	for _, s := range []string{"", "a<b>&c", "quote\"back\\", "nl\ncr\rtab\t", "\x01\x1f\x7f", "\u2028\u2029", "é…日本\U0001F600", "->"} {
		b, _ := json.Marshal(s)
		js = append(js, pair{s, string(b)})
	}
	out["json"] = js
	tz := map[string][]pair{}
	times := []int64{0, 1795954699, 1768478400, 1784116800, 1774746000, 1774749600, 946684800, 4102444800,
		1711846799, 1711846800, 1743296400, 1761440400, 1762063200, 1741503600}
	for _, zone := range []string{"UTC", "Etc/UTC", "GMT", "Etc/GMT+5", "Etc/GMT-14", "Europe/Berlin", "America/New_York",
		"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Moscow", "Europe/Istanbul", "Asia/Kolkata",
		"Asia/Calcutta", "Asia/Tokyo", "Asia/Shanghai", "Asia/Jerusalem", "Asia/Dubai", "Asia/Kathmandu",
		"Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland", "Pacific/Chatham", "America/Sao_Paulo",
		"America/St_Johns", "America/Los_Angeles", "America/Phoenix", "Pacific/Honolulu", "Africa/Johannesburg",
		"Africa/Cairo", "Africa/Casablanca", "US/Eastern", "CET", "EST5EDT"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			panic(err)
		}
		ps := []pair{}
		for _, t := range times {
			ps = append(ps, pair{strconv.FormatInt(t, 10), time.Unix(t, 0).In(loc).String()})
		}
		tz[zone] = ps
	}
	out["time"] = tz
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
