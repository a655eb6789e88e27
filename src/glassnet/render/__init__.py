"""Renderers: turn a :class:`~glassnet.trace.Trace` into text, tables, documents, diagrams and pages.

``worked`` turns each quantity into formula, numbers substituted and result;
``text``, ``terminal`` (rich), ``markdown``, ``latex`` and ``json`` write
those steps; ``diagram`` and ``svg`` draw the network (SVG, or PNG through
matplotlib); ``html`` writes notebook displays and the self-contained
explain page. Renderers only read traces; they never compute a gradient.
"""
