// Command bench measures the Go libraries Cairn's native core is compared
// with, on one core: klauspost/reedsolomon (encode, and ReconstructData with
// two data shards lost) over 1 MiB blocks, HighwayHash-256 (minio/highwayhash)
// and BLAKE3 (github.com/zeebo/blake3, the library tools/vectors uses; and
// for reference lukechampine.com/blake3) over 1 MiB buffers.
//
//	cd bench/go && go run .          # human table
//	cd bench/go && go run . --json   # one JSON object on stdout
//
// GB/s are 1e9 bytes per second of input data (the 1 MiB block, not parity).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"
	luke "lukechampine.com/blake3"
)

const blockSize = 1 << 20

var (
	minDuration = flag.Duration("time", time.Second, "minimum duration of one measurement")
	runs        = flag.Int("runs", 3, "measurements per figure; the best is kept")
	jsonOut     = flag.Bool("json", false, "print one JSON object instead of a table")
)

type rsResult struct {
	Shape       string  `json:"shape"`
	Op          string  `json:"op"`
	API         string  `json:"api"`
	GBps        float64 `json:"gbps"`
	AllocsPerOp float64 `json:"allocsPerOp"`
}

type report struct {
	RS                []rsResult `json:"rs"`
	HighwayHash256GBs float64    `json:"highwayhash256_gbps"`
	Blake3GBs         float64    `json:"blake3_gbps"`
	Blake3LukeGBs     float64    `json:"blake3_lukechampine_gbps"`
	CPU               string     `json:"cpu"`
	Versions          string     `json:"versions"`
}

func main() {
	flag.Parse()
	runtime.GOMAXPROCS(1)

	shapes := [][2]int{{4, 2}, {8, 4}, {12, 4}}
	var rep report
	for _, s := range shapes {
		rep.RS = append(rep.RS, benchRS(s[0], s[1])...)
	}
	rep.HighwayHash256GBs, _ = benchHighwayHash()
	rep.Blake3GBs, _ = benchBlake3()
	rep.Blake3LukeGBs, _ = benchBlake3Luke()
	rep.CPU = cpuString()
	rep.Versions = versions()

	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		if err := enc.Encode(rep); err != nil {
			fail(err)
		}
		return
	}
	fmt.Printf("cpu: %s\n", rep.CPU)
	fmt.Printf("libs: %s\n", rep.Versions)
	fmt.Printf("GOMAXPROCS=1, 1 MiB blocks, best of %d runs of >= %s; GB/s = 1e9 data bytes/s\n\n", *runs, *minDuration)
	fmt.Printf("%-16s %-12s %-16s %8s %10s\n", "what", "op", "api", "GB/s", "allocs/op")
	for _, r := range rep.RS {
		fmt.Printf("%-16s %-12s %-16s %8.2f %10.1f\n", "rs "+r.Shape, r.Op, r.API, r.GBps, r.AllocsPerOp)
	}
	fmt.Printf("%-16s %-12s %-16s %8.2f\n", "highwayhash256", "hash", "Reset+Write+Sum", rep.HighwayHash256GBs)
	fmt.Printf("%-16s %-12s %-16s %8.2f\n", "blake3 (zeebo)", "hash", "Reset+Write+Sum", rep.Blake3GBs)
	fmt.Printf("%-16s %-12s %-16s %8.2f\n", "blake3 (luke)", "hash", "Reset+Write+Sum", rep.Blake3LukeGBs)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// measure runs op until minDuration has passed, *runs times, and returns the
// best throughput in GB/s of bytesPerOp, plus heap allocations per op.
func measure(bytesPerOp int, op func()) (gbps, allocsPerOp float64) {
	op() // warm up: inversion cache, lazily built tables
	for r := 0; r < *runs; r++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n := 0
		start := time.Now()
		var elapsed time.Duration
		for elapsed < *minDuration {
			// Batch to keep time.Now out of the measured cost.
			for i := 0; i < 8; i++ {
				op()
			}
			n += 8
			elapsed = time.Since(start)
		}
		runtime.ReadMemStats(&after)
		g := round3(float64(bytesPerOp) * float64(n) / elapsed.Seconds() / 1e9)
		if g > gbps {
			gbps = g
		}
		a := round3(float64(after.Mallocs-before.Mallocs) / float64(n))
		if r == 0 || a < allocsPerOp {
			allocsPerOp = a
		}
	}
	return gbps, allocsPerOp
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func block() []byte {
	b := make([]byte, blockSize)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func benchRS(k, m int) []rsResult {
	shape := fmt.Sprintf("%d+%d", k, m)
	// One goroutine per call: the library otherwise splits a shard across up
	// to GOMAXPROCS*2 goroutines.
	enc, err := reedsolomon.New(k, m, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		fail(err)
	}
	shards, err := enc.Split(block())
	if err != nil {
		fail(err)
	}
	if err := enc.Encode(shards); err != nil {
		fail(err)
	}

	encGBps, encAllocs := measure(blockSize, func() {
		if err := enc.Encode(shards); err != nil {
			fail(err)
		}
	})

	// Lose two data shards; a zero-length slice that keeps its capacity is
	// the documented way to have ReconstructData write into the old buffer.
	want := [][]byte{append([]byte(nil), shards[0]...), append([]byte(nil), shards[1]...)}
	recGBps, recAllocs := measure(blockSize, func() {
		shards[0] = shards[0][:0]
		shards[1] = shards[1][:0]
		if err := enc.ReconstructData(shards); err != nil {
			fail(err)
		}
	})
	for i := range want {
		if string(shards[i]) != string(want[i]) {
			fail(fmt.Errorf("%s: ReconstructData produced wrong shard %d", shape, i))
		}
	}
	return []rsResult{
		{Shape: shape, Op: "encode", API: "Encode", GBps: encGBps, AllocsPerOp: encAllocs},
		{Shape: shape, Op: "reconstruct", API: "ReconstructData", GBps: recGBps, AllocsPerOp: recAllocs},
	}
}

func benchHighwayHash() (float64, float64) {
	key := make([]byte, 32)
	h, err := highwayhash.New(key)
	if err != nil {
		fail(err)
	}
	buf := block()
	sum := make([]byte, 0, 32)
	return measure(blockSize, func() {
		h.Reset()
		_, _ = h.Write(buf)
		sum = h.Sum(sum[:0])
	})
}

func benchBlake3() (float64, float64) {
	h := blake3.New()
	buf := block()
	sum := make([]byte, 0, 32)
	return measure(blockSize, func() {
		h.Reset()
		_, _ = h.Write(buf)
		sum = h.Sum(sum[:0])
	})
}

func benchBlake3Luke() (float64, float64) {
	h := luke.New(32, nil)
	buf := block()
	sum := make([]byte, 0, 32)
	return measure(blockSize, func() {
		h.Reset()
		_, _ = h.Write(buf)
		sum = h.Sum(sum[:0])
	})
}

func cpuString() string {
	c := cpuid.CPU
	var feats []string
	for _, f := range []struct {
		name string
		id   cpuid.FeatureID
	}{
		{"SSSE3", cpuid.SSSE3}, {"AVX2", cpuid.AVX2}, {"AVX512F", cpuid.AVX512F},
		{"AVX512BW", cpuid.AVX512BW}, {"AVX512VL", cpuid.AVX512VL}, {"AVX512DQ", cpuid.AVX512DQ},
		{"GFNI", cpuid.GFNI},
	} {
		if c.Supports(f.id) {
			feats = append(feats, f.name)
		}
	}
	return fmt.Sprintf("%s; %s; reedsolomon kernel: %s", strings.TrimSpace(c.BrandName),
		strings.Join(feats, " "), rsKernel())
}

// rsKernel mirrors the order in which klauspost/reedsolomon (v1.14, amd64)
// picks its GF(2^8) multiply kernel for default options: GFNI on AVX-512,
// then GFNI on AVX, then the generated AVX2 code, then SSSE3 tables.
func rsKernel() string {
	c := cpuid.CPU
	switch {
	case runtime.GOARCH != "amd64":
		return runtime.GOARCH
	case c.Supports(cpuid.AVX512F, cpuid.GFNI, cpuid.AVX512DQ):
		return "GFNI (AVX-512)"
	case c.Supports(cpuid.AVX, cpuid.GFNI):
		return "GFNI (AVX)"
	case c.Supports(cpuid.AVX2):
		return "AVX2 (generated)"
	case c.Supports(cpuid.SSSE3):
		return "SSSE3"
	default:
		return "generic Go"
	}
}

func versions() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var out []string
	for _, d := range info.Deps {
		switch d.Path {
		case "github.com/klauspost/reedsolomon", "github.com/minio/highwayhash",
			"github.com/zeebo/blake3", "lukechampine.com/blake3":
			out = append(out, d.Path+" "+d.Version)
		}
	}
	return strings.Join(out, ", ") + ", " + runtime.Version()
}
