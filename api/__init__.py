"""The REST API (flask-smorest, /api/v1), the reconciliation service (/reconcile) and the `zhibiao` command."""
