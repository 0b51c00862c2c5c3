"""moodle-buyin: make workplace training stick inside Moodle."""

__version__ = "0.1.0"
