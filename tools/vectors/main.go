// Command vectors writes the cross-implementation test vectors that the Rust
// core (native/) checks itself against: Reed-Solomon shards as produced by
// github.com/klauspost/reedsolomon (the encoder MinIO uses), HighwayHash-256
// from github.com/minio/highwayhash, and BLAKE3.
//
// Regenerate with:
//
//	cd tools/vectors && go run . ../../native/tests/fixtures/vectors.json
//
// The output is deterministic: inputs are never stored, input byte i of a
// vector of length len is (i % 251), the pattern of the official BLAKE3 test
// vectors.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"
	luke "lukechampine.com/blake3"
)

const defaultOut = "../../native/tests/fixtures/vectors.json"

type rsVector struct {
	K         int      `json:"k"`
	M         int      `json:"m"`
	Len       int      `json:"len"`
	ShardSize int      `json:"shardSize"`
	Shards    []string `json:"shards"`
}

type hhVector struct {
	Key    string `json:"key"`
	Len    int    `json:"len"`
	Digest string `json:"digest"`
}

type b3Vector struct {
	Len    int    `json:"len"`
	Digest string `json:"digest"`
}

// Shapes (data, parity). All keep k+m <= 256, so klauspost stays on its
// GF(2^8) backend; above 256 shards it silently switches to leopard GF(2^16).
var rsShapes = [][2]int{
	{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 2}, {5, 3}, {6, 2}, {6, 3}, {8, 4}, {10, 4},
	{12, 4}, {10, 6}, {16, 4}, {16, 16}, {17, 3}, {20, 10}, {32, 8}, {64, 16},
	{128, 127}, {200, 56},
}

var hhLens = func() []int {
	var l []int
	for i := 0; i <= 65; i++ {
		l = append(l, i)
	}
	return append(l, 95, 96, 97, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025,
		4096+31, 65536, 65536+7, 1048576)
}()

var b3Lens = []int{0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2048, 2049, 3072, 3073,
	4096, 4097, 5120, 5121, 6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400,
	1048576, 1048576 + 5}

// MinIO's bitrot key for HighwayHash-256 (magicHighwayHash256Key).
const minioBitrotKeyHex = "4be734fa8e238acd263e83e6bb968552040f935da39f441497e09d1322de36a0"

// The first 100 decimals of pi; MinIO derives its bitrot key as
// HighwayHash-256 (zero key) of this string.
const piDecimals = "1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679"

// Official BLAKE3 test vectors (test_vectors.json in the BLAKE3 repo), same
// input pattern, first 32 bytes of the hash.
var b3Official = map[int]string{
	0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
	1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
}

func input(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err)
		os.Exit(1)
	}
}

func check(ok bool, format string, args ...any) {
	if !ok {
		must(fmt.Errorf(format, args...))
	}
}

func main() {
	out := defaultOut
	if len(os.Args) > 1 {
		out = os.Args[1]
	}

	var buf bytes.Buffer
	buf.WriteString("{\n")
	fmt.Fprintf(&buf, "  \"generator\": %s,\n", jsonString(generatorString()))

	buf.WriteString("  \"reedsolomon\": [\n")
	var rs []any
	for _, s := range rsShapes {
		k, m := s[0], s[1]
		lens := []int{k * 1, k*37 + 5}
		if k <= 16 {
			lens = append(lens, k*1000+13)
		}
		for _, n := range lens {
			rs = append(rs, rsVectorFor(k, m, n))
		}
	}
	writeArray(&buf, rs)
	buf.WriteString("  ],\n")

	buf.WriteString("  \"highwayhash256\": [\n")
	zeroKey := make([]byte, 32)
	seqKey := make([]byte, 32)
	for i := range seqKey {
		seqKey[i] = byte(i)
	}
	bitrotKey, err := hex.DecodeString(minioBitrotKeyHex)
	must(err)
	derived := highwayhash.Sum([]byte(piDecimals), zeroKey)
	check(bytes.Equal(derived[:], bitrotKey),
		"MinIO bitrot key is not HighwayHash-256(zero key, first 100 decimals of pi): got %x", derived)
	var hh []any
	for _, key := range [][]byte{zeroKey, seqKey, bitrotKey} {
		for _, n := range hhLens {
			hh = append(hh, hhVectorFor(key, n))
		}
	}
	writeArray(&buf, hh)
	buf.WriteString("  ],\n")

	buf.WriteString("  \"blake3\": [\n")
	var b3 []any
	for _, n := range b3Lens {
		b3 = append(b3, b3VectorFor(n))
	}
	writeArray(&buf, b3)
	buf.WriteString("  ]\n}\n")

	must(os.WriteFile(out, buf.Bytes(), 0o644))
	fmt.Fprintf(os.Stderr, "vectors: wrote %s (%d bytes; %d reedsolomon, %d highwayhash256, %d blake3)\n",
		out, buf.Len(), len(rs), len(hh), len(b3))
}

func rsVectorFor(k, m, n int) rsVector {
	// Default options on purpose: the vectors must pin klauspost's default
	// (Vandermonde-derived, systematic) matrix, the one MinIO's erasure code uses.
	enc, err := reedsolomon.New(k, m)
	must(err)
	// Anything else (leopard GF16/GF8) would be a different code altogether.
	check(fmt.Sprintf("%T", enc) == "*reedsolomon.reedSolomon",
		"%d+%d: unexpected encoder backend %T", k, m, enc)

	data := input(n)
	shards, err := enc.Split(data)
	must(err)
	shardSize := (n + k - 1) / k
	check(len(shards) == k+m, "%d+%d: Split returned %d shards", k, m, len(shards))
	var joined []byte
	for i, s := range shards {
		check(len(s) == shardSize, "%d+%d len %d: shard %d has size %d, want %d", k, m, n, i, len(s), shardSize)
		if i < k {
			joined = append(joined, s...)
		}
	}
	padded := append(input(n), make([]byte, k*shardSize-n)...)
	check(bytes.Equal(joined, padded), "%d+%d len %d: data shards are not the zero-padded input", k, m, n)

	must(enc.Encode(shards))
	ok, err := enc.Verify(shards)
	must(err)
	check(ok, "%d+%d len %d: Verify failed", k, m, n)

	// Independent check that the parity is the systematic Vandermonde code
	// (see matrix.go), not a Cauchy, XOR or leopard one.
	parity := vandermondeParity(k, m)
	for p := 0; p < m; p++ {
		want := make([]byte, shardSize)
		for d := 0; d < k; d++ {
			c := parity[p][d]
			for j, b := range shards[d] {
				want[j] ^= gfMul(c, b)
			}
		}
		check(bytes.Equal(want, shards[k+p]),
			"%d+%d len %d: parity shard %d differs from the systematic Vandermonde code", k, m, n, p)
	}

	// Reconstruction round trip: drop up to m shards, data first.
	lost := make([][]byte, len(shards))
	copy(lost, shards)
	for i := 0; i < m; i++ {
		lost[i%(k+m)] = nil
	}
	must(enc.Reconstruct(lost))
	for i := range shards {
		check(bytes.Equal(lost[i], shards[i]), "%d+%d len %d: reconstruct mismatch at shard %d", k, m, n, i)
	}

	v := rsVector{K: k, M: m, Len: n, ShardSize: shardSize}
	for _, s := range shards {
		v.Shards = append(v.Shards, hex.EncodeToString(s))
	}
	return v
}

func hhVectorFor(key []byte, n int) hhVector {
	data := input(n)
	h, err := highwayhash.New(key)
	must(err)
	_, _ = h.Write(data)
	sum := h.Sum(nil)

	// Streaming in odd pieces must agree with the one-shot digest.
	h2, err := highwayhash.New(key)
	must(err)
	for off := 0; off < n; off += 7 {
		_, _ = h2.Write(data[off:min(off+7, n)])
	}
	check(bytes.Equal(h2.Sum(nil), sum), "highwayhash len %d: streaming and one-shot differ", n)
	oneShot := highwayhash.Sum(data, key)
	check(bytes.Equal(oneShot[:], sum), "highwayhash len %d: Sum and New+Write differ", n)

	return hhVector{Key: hex.EncodeToString(key), Len: n, Digest: hex.EncodeToString(sum)}
}

func b3VectorFor(n int) b3Vector {
	data := input(n)
	sum := blake3.Sum256(data)

	h := blake3.New()
	for off := 0; off < n; off += 1000 {
		_, _ = h.Write(data[off:min(off+1000, n)])
	}
	check(bytes.Equal(h.Sum(nil), sum[:]), "blake3 len %d: streaming and one-shot differ", n)

	// A second, independent implementation must agree.
	other := luke.Sum256(data)
	check(other == sum, "blake3 len %d: zeebo %x != lukechampine %x", n, sum, other)

	if want, ok := b3Official[n]; ok {
		check(hex.EncodeToString(sum[:]) == want, "blake3 len %d: %x is not the official vector %s", n, sum, want)
	}
	return b3Vector{Len: n, Digest: hex.EncodeToString(sum[:])}
}

func writeArray(buf *bytes.Buffer, items []any) {
	for i, it := range items {
		b, err := json.Marshal(it)
		must(err)
		buf.WriteString("    ")
		buf.Write(b)
		if i < len(items)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	must(err)
	return string(b)
}

func generatorString() string {
	return fmt.Sprintf("tools/vectors (klauspost/reedsolomon %s, minio/highwayhash %s, zeebo/blake3 %s)",
		depVersion("github.com/klauspost/reedsolomon"),
		depVersion("github.com/minio/highwayhash"),
		depVersion("github.com/zeebo/blake3"))
}

func depVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	check(ok, "no build info: build in module mode")
	for _, d := range info.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	must(fmt.Errorf("dependency %s not in build info", path))
	return ""
}
