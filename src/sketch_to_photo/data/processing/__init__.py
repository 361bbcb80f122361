"""From an extracted Sketchy tree to npz pair shards, one job per module: :mod:`.indexing`,
:mod:`.segmenting` (resumable through :mod:`.fingerprints`), :mod:`.splitting`,
:mod:`.shards`, :mod:`.manifest`, :mod:`.edge_maps` and the picture checks in :mod:`.grids`.
The data_processing pipeline's nodes read the parameters and call these."""
