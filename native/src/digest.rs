//! Content checksums S3 computes while a body streams in: MD5 (the ETag), and the
//! `x-amz-checksum-*` family (CRC32, CRC32C, CRC64NVME, SHA1, SHA256). Several run over the same
//! bytes in one pass, on a worker thread, beside the erasure coding.

use crate::md5x::{hub, Md5};
use crc_fast::{CrcAlgorithm, Digest as Crc};
use sha1::Sha1;
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Md5,
    Sha1,
    Sha256,
    Crc32,
    Crc32c,
    Crc64Nvme,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "md5" => Kind::Md5,
            "sha1" => Kind::Sha1,
            "sha256" => Kind::Sha256,
            "crc32" => Kind::Crc32,
            "crc32c" => Kind::Crc32c,
            "crc64nvme" => Kind::Crc64Nvme,
            _ => return None,
        })
    }
}

#[derive(Clone)]
enum State {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Crc(Crc, usize),
}

/// One running checksum.
#[derive(Clone)]
pub struct Checksum(State);

impl Checksum {
    pub fn new(kind: Kind) -> Checksum {
        Checksum(match kind {
            Kind::Md5 => State::Md5(Md5::new()),
            Kind::Sha1 => State::Sha1(Sha1::new()),
            Kind::Sha256 => State::Sha256(Sha256::new()),
            Kind::Crc32 => State::Crc(Crc::new(CrcAlgorithm::Crc32IsoHdlc), 4),
            Kind::Crc32c => State::Crc(Crc::new(CrcAlgorithm::Crc32Iscsi), 4),
            Kind::Crc64Nvme => State::Crc(Crc::new(CrcAlgorithm::Crc64Nvme), 8),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Md5(h) => h.update_scalar(data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Crc(c, _) => c.update(data),
        }
    }

    /// `update`, with a large MD5 update hashed on the process's MD5 thread together with the
    /// other streams' (`md5x::hub`): for worker threads, never the JS thread (it waits there).
    pub fn update_shared(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Md5(h) => hub::update(h, data),
            _ => self.update(data),
        }
    }

    /// The digest so far, big-endian for the CRCs (as S3 encodes them); the state goes on.
    pub fn digest(&self) -> Vec<u8> {
        match &self.0 {
            State::Md5(h) => h.finalize().to_vec(),
            State::Sha1(h) => h.clone().finalize().to_vec(),
            State::Sha256(h) => h.clone().finalize().to_vec(),
            State::Crc(c, width) => c.finalize().to_be_bytes()[8 - width..].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(k: Kind, data: &[u8]) -> String {
        let mut c = Checksum::new(k);
        c.update(data);
        c.digest().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // The CRC catalogue's check values ("123456789") and RFC test vectors.
        assert_eq!(hex(Kind::Crc32, b"123456789"), "cbf43926");
        assert_eq!(hex(Kind::Crc32c, b"123456789"), "e3069283");
        assert_eq!(hex(Kind::Crc64Nvme, b"123456789"), "ae8b14860a799888");
        assert_eq!(hex(Kind::Md5, b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(Kind::Sha1, b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(Kind::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        for k in [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Crc32, Kind::Crc32c, Kind::Crc64Nvme] {
            let mut c = Checksum::new(k);
            for piece in data.chunks(999) {
                c.update(piece);
            }
            let mut one = Checksum::new(k);
            one.update(&data);
            assert_eq!(c.digest(), one.digest(), "{k:?}");
        }
    }
}
