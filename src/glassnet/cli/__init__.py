"""The ``glassnet`` command line: a thin face over the library."""
