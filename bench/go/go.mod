module cairn/bench/go

go 1.24

require (
	github.com/klauspost/cpuid/v2 v2.3.0
	github.com/klauspost/reedsolomon v1.14.2
	github.com/minio/highwayhash v1.0.4
	github.com/zeebo/blake3 v0.2.4
	lukechampine.com/blake3 v1.4.1
)

require golang.org/x/sys v0.30.0 // indirect
