#![allow(dead_code)]
//! Shared helpers for the integration tests.

use serde_json::Value;

pub fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read vectors.json"))
        .expect("parse vectors.json")
}

/// The input pattern of every vector: byte i is i % 251.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A small deterministic generator (xorshift) for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 24) as u8
            })
            .collect()
    }
}

/// Every subset of `0..n` with exactly `r` elements.
pub fn combinations(n: usize, r: usize) -> Vec<Vec<usize>> {
    fn go(start: usize, n: usize, r: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == r {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            go(i + 1, n, r, cur, out);
            cur.pop();
        }
    }
    let mut out = vec![];
    go(0, n, r, &mut vec![], &mut out);
    out
}
