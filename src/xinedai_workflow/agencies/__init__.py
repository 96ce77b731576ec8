"""Outside collection agencies (委外催收): contracts, placements, agency collectors, commission."""
