"""The library and its versions: the draft and changes to it, publishing (gates, lint, jobs), versions and their snapshot, diffs and history, proposals, curation, backup."""
