"""The /api/v1 blueprints, one module per resource."""
from api.v1 import cases, complete, jobs, draft, indicators, plan, quotas, suggest, systems, targets, taxonomy, versions

BLUEPRINTS = [
    indicators.blp,
    complete.blp,
    systems.blp,
    taxonomy.blp,
    versions.blp,
    plan.blp,
    draft.blp,
    suggest.blp,
    targets.blp,
    quotas.blp,
    cases.blp,
    jobs.blp,
]
