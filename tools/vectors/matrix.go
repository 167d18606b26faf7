package main

// A deliberately plain GF(2^8) model of the code the vectors must pin, used to
// check klauspost's output independently of its internals:
//
//   - field GF(2^8) with reduction polynomial x^8+x^4+x^3+x^2+1 (0x11d);
//   - V is the (k+m) x k Vandermonde matrix V[r][c] = r^c (with 0^0 = 1),
//     where r is the row index taken as a field element;
//   - the encoding matrix is V * inverse(V[0:k]) (systematic: identity on top),
//     and parity shard p is sum_d E[k+p][d] * data[d].

const gfPoly = 0x11d

func gfMul(a, b byte) byte {
	var p uint16
	x, y := uint16(a), uint16(b)
	for y != 0 {
		if y&1 != 0 {
			p ^= x
		}
		y >>= 1
		x <<= 1
		if x&0x100 != 0 {
			x ^= gfPoly
		}
	}
	return byte(p)
}

func gfPow(a byte, n int) byte {
	r := byte(1)
	for i := 0; i < n; i++ {
		r = gfMul(r, a)
	}
	return r
}

func gfInv(a byte) byte {
	// a^254 = a^-1 in GF(2^8) for a != 0.
	return gfPow(a, 254)
}

// vandermondeParity returns the m parity rows (each of k coefficients) of the
// systematic Vandermonde encoding matrix.
func vandermondeParity(k, m int) [][]byte {
	n := k + m
	v := make([][]byte, n)
	for r := range v {
		v[r] = make([]byte, k)
		for c := range v[r] {
			v[r][c] = gfPow(byte(r), c)
		}
	}
	topInv := invert(v[:k])
	out := make([][]byte, m)
	for p := 0; p < m; p++ {
		row := v[k+p]
		out[p] = make([]byte, k)
		for c := 0; c < k; c++ {
			var s byte
			for j := 0; j < k; j++ {
				s ^= gfMul(row[j], topInv[j][c])
			}
			out[p][c] = s
		}
	}
	return out
}

// invert is Gauss-Jordan elimination over GF(2^8) on a square matrix.
func invert(a [][]byte) [][]byte {
	k := len(a)
	w := make([][]byte, k)
	for i := range w {
		w[i] = make([]byte, 2*k)
		copy(w[i], a[i])
		w[i][k+i] = 1
	}
	for col := 0; col < k; col++ {
		piv := col
		for piv < k && w[piv][col] == 0 {
			piv++
		}
		check(piv < k, "Vandermonde top square is singular (k=%d)", k)
		w[col], w[piv] = w[piv], w[col]
		inv := gfInv(w[col][col])
		for j := range w[col] {
			w[col][j] = gfMul(w[col][j], inv)
		}
		for r := 0; r < k; r++ {
			if r == col || w[r][col] == 0 {
				continue
			}
			f := w[r][col]
			for j := range w[r] {
				w[r][j] ^= gfMul(f, w[col][j])
			}
		}
	}
	out := make([][]byte, k)
	for i := range out {
		out[i] = w[i][k:]
	}
	return out
}
