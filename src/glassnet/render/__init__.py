"""Renderers: turn a :class:`~glassnet.trace.Trace` into text, JSON and other formats.

Renderers only read traces; they never compute a gradient.
"""
