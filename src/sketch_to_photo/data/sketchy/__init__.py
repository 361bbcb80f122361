"""Plain-Python access to the Sketchy database (independent of Kedro).

- :mod:`.layout`: folder names, file names and id rules of the official archives.
- :mod:`.synthetic`: a deterministic generator of a small Sketchy-layout dataset.
- :mod:`.download`: resumable, verified download and safe extraction of the archives.
"""
