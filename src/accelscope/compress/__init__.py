"""Feature-map compression codecs. ``accelscope.compress.dct``: 8x8 DCT + quantization +
sparse coding of inter-layer feature maps (Shao et al., arXiv 2110.06155)."""

from accelscope.compress.dct import (
    FORMAT_NAMES,
    Bitstream,
    BlockCoder,
    DctCodec,
    DctEncoded,
    DctError,
    DctResult,
    block_coder,
    calibrate_step,
    compress,
    dct2,
    idct2,
    jpeg_table,
    snr_db,
    to_blocks,
)

__all__ = [
    "FORMAT_NAMES", "Bitstream", "BlockCoder", "DctCodec", "DctEncoded", "DctError",
    "DctResult", "block_coder", "calibrate_step", "compress", "dct2", "idct2", "jpeg_table",
    "snr_db", "to_blocks",
]
