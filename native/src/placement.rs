//! Which erasure set an object lives on: SipHash-2-4 of the object name keyed with the deployment
//! id, modulo the number of sets (MinIO's `sipHashMod`, so a deployment's placement is stable).

use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// The set (0-based) of `key` among `sets`, keyed by the 16-byte deployment id.
pub fn sip_hash_mod(key: &[u8], id: &[u8; 16], sets: u64) -> u64 {
    if sets == 0 {
        return 0;
    }
    let k0 = u64::from_le_bytes(id[..8].try_into().expect("8 bytes"));
    let k1 = u64::from_le_bytes(id[8..].try_into().expect("8 bytes"));
    let mut h = SipHasher24::new_with_keys(k0, k1);
    h.write(key);
    h.finish() % sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash24_reference_vector() {
        // The SipHash paper's test vector: key 00..0f, message 00..0e → a129ca6149be45e5.
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: Vec<u8> = (0..15).collect();
        let k0 = u64::from_le_bytes(key[..8].try_into().unwrap());
        let k1 = u64::from_le_bytes(key[8..].try_into().unwrap());
        let mut h = SipHasher24::new_with_keys(k0, k1);
        h.write(&msg);
        assert_eq!(h.finish(), 0xa129ca6149be45e5);
        assert_eq!(sip_hash_mod(&msg, &key, 1 << 40), 0xa129ca6149be45e5 % (1 << 40));
    }
}
