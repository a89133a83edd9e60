//! BLAKE3 domain flags and IV from the specification (sections 2.1 and 2.5). The SIMD paths of
//! the nonce generator and of the hit scan drive the compression kernel directly
//! (`blake3::platform`), so they need the constants the `blake3` crate keeps private.

pub(crate) const FLAG_CHUNK_START: u8 = 1;
pub(crate) const FLAG_CHUNK_END: u8 = 2;
pub(crate) const FLAG_PARENT: u8 = 4;
pub(crate) const FLAG_ROOT: u8 = 8;
pub(crate) const BLAKE3_IV: [u32; 8] = [
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
];
