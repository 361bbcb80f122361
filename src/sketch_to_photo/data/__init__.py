"""The data: the Sketchy database, segmentation, edge maps, pairs and their processing to shards."""
