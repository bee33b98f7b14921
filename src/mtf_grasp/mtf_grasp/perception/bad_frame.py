"""The error for a camera frame that cannot be used; nodes warn (throttled) and drop the frame."""


class BadFrame(ValueError):
    """A frame with an unknown encoding, inconsistent sizes, no usable depth or no camera_info."""
