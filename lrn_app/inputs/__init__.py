"""The pages' inputs: images (decoding uploads safely), the built-in samples, feature maps
from filter banks, and batches with their augmentations.
"""
