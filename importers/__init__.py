"""Files in and out: the seeded YAML library, Excel, CSV and JSON.

Readers turn files into validated batches (kb.library.draft.Batch) and hand them to
kb's library functions; they import kb only.
"""
