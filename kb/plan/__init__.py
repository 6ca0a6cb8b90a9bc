"""The three-year building plan: years and milestones, progress and coverage, editing it."""
