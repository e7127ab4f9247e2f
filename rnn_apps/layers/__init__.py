"""Building blocks: recurrent and convolutional encoders, the encoder specification, heads, CRF, CTC, fused kernels."""
