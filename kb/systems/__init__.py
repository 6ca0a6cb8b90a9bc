"""Indicator systems as weighted trees, and scoring units with them (绩效评价 rounds)."""
